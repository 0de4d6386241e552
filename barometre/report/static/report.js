/* Draws every chart of a report page: each element with data-spec names the <script
   type="application/json"> holding its Vega-Lite specification; data-shapes names the map mesh
   loaded by assets/shapes/<mesh>.js. Charts use the SVG renderer (countable marks) and French
   number formats. When all are drawn, <body data-charts-ready="N" data-charts-failed="M">. */
(function () {
  "use strict";
  var locale = {decimal: ",", thousands: "\u00a0", grouping: [3], currency: ["", "\u00a0€"], minus: "\u2212"};
  var views = (window.barometreViews = {});
  var charts = Array.prototype.slice.call(document.querySelectorAll("[data-spec]"));

  function draw(el) {
    var spec = JSON.parse(document.getElementById(el.dataset.spec).textContent);
    var mesh = el.dataset.shapes;
    if (mesh) {
      var shapes = (window.BAROMETRE_SHAPES || {})[mesh];
      if (!shapes) { return Promise.reject(new Error("map shapes '" + mesh + "' not loaded")); }
      spec.datasets = spec.datasets || {};
      spec.datasets["shapes_" + mesh] = shapes;
    }
    return vegaEmbed(el, spec, {renderer: "svg", actions: false, formatLocale: locale})
      .then(function (result) { views[el.id] = result.view; });
  }

  /* The territories drawn by the marks named `name` in chart `id` — code, name, period, value —
     for tests and the curious. */
  window.barometreMarks = function (id, name) {
    var out = [];
    (function walk(node) {
      if (!node) { return; }
      if (node.marktype && (node.name === name || node.name === name + "_marks")) {
        node.items.forEach(function (item) {
          var d = item.datum;
          out.push({code: d.code, name: d.name, period: d.period, value: d.value});
        });
      }
      (node.items || []).forEach(walk);
    })(views[id].scenegraph().root);
    return out;
  };

  Promise.allSettled(charts.map(draw)).then(function (results) {
    var failed = 0;
    results.forEach(function (r, i) {
      if (r.status === "rejected") {
        failed += 1;
        console.error("chart " + charts[i].id + ": " + r.reason);
        charts[i].textContent = "Le graphique n'a pas pu être dessiné : " + r.reason;
      }
    });
    document.body.dataset.chartsReady = String(results.length - failed);
    document.body.dataset.chartsFailed = String(failed);
  });
})();
