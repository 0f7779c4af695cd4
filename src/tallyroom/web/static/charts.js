// Draws each results chart from the figure JSON beside it (plotly.js, served by this site).
// Without JavaScript the page's tables carry the same figures. A figure's height is its own
// (it grows with the candidates); a figure that needs more width than the screen has
// (meta.min_width: the round columns would crowd their labels) scrolls sideways in its box.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Plotly === "undefined") { return; }
  document.querySelectorAll(".plot[data-figure]").forEach(function (el) {
    var data = document.getElementById(el.getAttribute("data-figure"));
    if (!data) { return; }
    var figure = JSON.parse(data.textContent);
    var layout = figure.layout || {};
    if (layout.height) { el.style.height = layout.height + "px"; }
    if (layout.meta && layout.meta.min_width) { el.style.minWidth = layout.meta.min_width + "px"; }
    Plotly.newPlot(el, figure.data, layout, {
      displayModeBar: false, responsive: true, staticPlot: false
    }).then(function () { el.setAttribute("data-drawn", "true"); });
  });
});
