// Follows a running register import: asks the API for the job's state every second and
// updates the count in place (announced politely); reloads the page when the job ends.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var job = document.getElementById("job");
  if (!job || job.getAttribute("data-state") !== "running") { return; }
  var url = job.getAttribute("data-job-url");
  function poll() {
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (doc) {
      if (doc.state !== "running") { window.location.reload(); return; }
      document.getElementById("job-done").textContent = Number(doc.done).toLocaleString("en-GB");
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
});
