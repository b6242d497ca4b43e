// The conclusion form's print button (no inline script: the site's CSP forbids it).
"use strict";
document.getElementById("print")?.addEventListener("click", () => window.print());
