// Draws the report charts from the JSON the page embeds (the same numbers as its tables).
// Words come from the page (data-series on each canvas, in the reader's language); on a
// right-to-left page time runs from right to left and bars grow from the right.
//
// Time runs right to left by giving the days newest first, not by reversing the axis: Chart.js
// makes room for the labels at an axis' two ends by their order, taking the first for the left
// one, so on a reversed axis the newest date at the left edge had none and was cut off.
(function () {
  var node = document.getElementById("chart-data");
  if (!node || typeof Chart === "undefined") return;
  var data = JSON.parse(node.textContent);
  var rtl = document.documentElement.dir === "rtl";
  Chart.defaults.plugins.legend.rtl = rtl;
  Chart.defaults.plugins.tooltip.rtl = rtl;
  function inReadingOrder(values) {
    return rtl ? values.slice().reverse() : values;
  }
  var days = inReadingOrder(data.days);
  // Chart.js makes room at the canvas' edge for a slanted end date's length and the labels'
  // padding, not for the date's height, whose corner was cut off by a pixel or two: a wider
  // padding gives it that room.
  var time = { ticks: { padding: 6 } };
  function series(id, fallback) {
    var canvas = document.getElementById(id);
    return (canvas && canvas.dataset.series) || fallback;
  }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }
  draw("chart-days", {
    type: "bar",
    data: {
      labels: days,
      datasets: data.statuses.map(function (s) {
        return { label: s.label, data: inReadingOrder(s.data), backgroundColor: s.color };
      }),
    },
    options: { responsive: true, scales: { x: Object.assign({ stacked: true }, time), y: { stacked: true, beginAtZero: true, position: rtl ? "right" : "left" } } },
  });
  draw("chart-rates", {
    type: "bar",
    data: { labels: data.providers, datasets: [{ label: series("chart-rates", "% delivered"), data: data.rates, backgroundColor: "#198754" }] },
    options: { indexAxis: "y", scales: { x: { min: 0, max: 100, reverse: rtl }, y: { position: rtl ? "right" : "left" } }, plugins: { legend: { display: false } } },
  });
  draw("chart-cost", {
    type: "line",
    data: { labels: days, datasets: [{ label: series("chart-cost", "cost"), data: inReadingOrder(data.cost), borderColor: "#0d6efd", fill: false, tension: 0.2 }] },
    options: { plugins: { legend: { display: false } }, scales: { x: time, y: { beginAtZero: true, position: rtl ? "right" : "left" } } },
  });
  draw("chart-reasons", {
    type: "bar",
    data: { labels: data.reasons, datasets: [{ label: series("chart-reasons", "deliveries"), data: data.reason_counts, backgroundColor: "#dc3545" }] },
    options: { indexAxis: "y", scales: { x: { reverse: rtl }, y: { position: rtl ? "right" : "left" } }, plugins: { legend: { display: false } } },
  });
})();
