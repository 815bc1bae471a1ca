// Charts from json_script data: <canvas data-chart="<json_script id>">.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var palette = ["#0b5cad", "#d9822b", "#2e8540", "#9b3a8c", "#6b6b6b", "#c23b22"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    if (!data.labels.length) { canvas.parentNode.hidden = true; return; }
    data.datasets.forEach(function (dataset, index) {
      dataset.backgroundColor = palette[index % palette.length];
    });
    new Chart(canvas, {
      type: canvas.dataset.chartType || "bar",
      data: data,
      options: {
        indexAxis: canvas.dataset.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom" } }
      }
    });
  });
})();
