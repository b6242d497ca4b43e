// The booking and rescheduling forms. Choosing a project shows the form again for it (experts
// tied to its parties marked, its supplier's teams shown), keeping what was typed; pressing an
// offered time (after a clash) fills the date and times with it before the form is sent. Without
// this script the "check experts' conflicts" button does the first, and the server reads the
// offered time from the button itself.
"use strict";
(() => {
  const form = document.getElementById("booking") || document.getElementById("move");
  if (!form) return;
  for (const offer of form.querySelectorAll("button.offer")) {
    offer.addEventListener("click", () => {
      for (const name of ["date", "start", "end"]) {
        const input = form.querySelector(`input[name=${name}]`);
        if (input) input.value = offer.dataset[name] || input.value;
      }
    });
  }
  const project = document.getElementById("project");
  const preview = document.getElementById("preview");
  if (!project || !preview) return;
  project.addEventListener("change", () => {
    if (project.value) form.requestSubmit(preview);
  });
})();
