// Draws each results chart from the figure JSON beside it (plotly.js, served by this site).
// Without JavaScript the page's tables carry the same figures.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Plotly === "undefined") { return; }
  document.querySelectorAll(".plot[data-figure]").forEach(function (el) {
    var data = document.getElementById(el.getAttribute("data-figure"));
    if (!data) { return; }
    var figure = JSON.parse(data.textContent);
    Plotly.newPlot(el, figure.data, figure.layout, {
      displayModeBar: false, responsive: true, staticPlot: false
    }).then(function () { el.setAttribute("data-drawn", "true"); });
  });
});
