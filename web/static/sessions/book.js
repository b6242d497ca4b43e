// The booking form: choosing a project shows the form again for it (experts tied to its parties
// marked, its supplier's teams shown), keeping what was typed. Without this script the
// "check experts' conflicts" button does the same.
"use strict";
(() => {
  const form = document.getElementById("booking");
  const project = document.getElementById("project");
  const preview = document.getElementById("preview");
  if (!form || !project || !preview) return;
  project.addEventListener("change", () => {
    if (project.value) form.requestSubmit(preview);
  });
})();
