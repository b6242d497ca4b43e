// The plan's progress page: poll the proposal's state (JSON) and show the share of the time budget
// used; once the planner has finished, load the page again to show the plan. Without this script
// the page offers a reload link.
"use strict";
(() => {
  const section = document.getElementById("plan-running");
  const bar = document.getElementById("plan-progress");
  const text = document.getElementById("plan-elapsed");
  if (!section || !bar) return;
  const url = section.dataset.statusUrl;
  const zh = document.documentElement.lang !== "en";
  const poll = async () => {
    let status;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      status = await response.json();
    } catch (_error) {
      window.setTimeout(poll, 2000);
      return;
    }
    const percent = Math.round(status.progress * 100);
    bar.value = percent;
    bar.textContent = `${percent}%`;
    if (text) {
      text.textContent = zh
        ? `已用 ${status.elapsed_seconds.toFixed(1)} 秒 / 时限 ${status.budget_seconds} 秒`
        : `${status.elapsed_seconds.toFixed(1)} s of ${status.budget_seconds} s`;
    }
    if (status.state === "running") window.setTimeout(poll, 500);
    else window.location.reload();
  };
  window.setTimeout(poll, 300);
})();
