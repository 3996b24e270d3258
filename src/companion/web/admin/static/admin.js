// Companion command center: confirmations before shared changes, and upload job progress.
// Small and dependency-free; every page works without it (forms post normally).
"use strict";

document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

function pollJob(box) {
  const url = box.getAttribute("data-job-url");
  const bar = box.querySelector("progress");
  const status = box.querySelector(".job-status");
  let delay = 500;
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)); })
      .then(function (job) {
        bar.value = job.progress || 0;
        const units = job.total_units ? " (" + job.done_units + " of " + job.total_units + ")" : "";
        status.textContent = job.status + (job.message ? ": " + job.message : "") + units +
          (job.error ? " — " + job.error : "");
        if (job.status === "queued" || job.status === "running") {
          delay = Math.min(delay * 1.5, 3000);
          window.setTimeout(tick, delay);
        }
      })
      .catch(function (err) { status.textContent = "Could not read the job's progress: " + err.message; });
  }
  tick();
}

document.querySelectorAll("[data-job-url]").forEach(pollJob);
