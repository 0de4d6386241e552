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

  /* Tables of a level without a map (data-period-table: the id of the JSON of every period, each
     {period, vintage_label, n, top, bottom}): the period chosen in the section's <select>. */
  function row(r) {
    var tr = document.createElement("tr"), name = document.createElement("td"), code = document.createElement("span"),
        value = document.createElement("td");
    name.textContent = r.name + " ";
    code.className = "code";
    code.textContent = r.code;
    name.appendChild(code);
    value.className = "num";
    value.dataset.value = String(r.raw);
    value.textContent = r.value;
    tr.appendChild(name);
    tr.appendChild(value);
    return tr;
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-period-table]"), function (section) {
    var select = section.querySelector("select.period-switch");
    if (!select) { return; }
    var data = JSON.parse(document.getElementById(section.dataset.periodTable).textContent);
    select.addEventListener("change", function () {
      var d = data[select.value];
      ["top", "bottom"].forEach(function (part) {
        var body = section.querySelector("tbody." + part);
        body.textContent = "";
        d[part].forEach(function (r) { body.appendChild(row(r)); });
      });
      section.querySelector(".n").textContent = String(d.n);
      section.querySelector(".period").textContent = d.period;
      section.querySelector(".vintage").textContent = d.vintage_label;
    });
  });

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
