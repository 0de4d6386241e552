/* Search box of the home page: finds a territory by name or code in window.BAROMETRE_TERRITOIRES
   (assets/territoires.js, loaded as a script so that it works from file://), accent- and
   case-insensitive: every word typed must begin a word of the name (or the code). */
(function () {
  "use strict";
  var input = document.getElementById("territory-search");
  var list = document.getElementById("territory-results");
  var index = window.BAROMETRE_TERRITOIRES || [];
  if (!input || !list) { return; }

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  }

  function matches(key, words) {
    var parts = (" " + key).split(" ");
    return words.every(function (w) {
      return parts.some(function (p) { return p.indexOf(w) === 0; });
    });
  }

  function inOrder(key, words) {
    var at = 0, parts = key.split(" ");
    return words.every(function (w) {
      while (at < parts.length && parts[at].indexOf(w) !== 0) { at += 1; }
      at += 1;
      return at <= parts.length;
    });
  }

  function score(key, q, words) {
    if (!matches(key, words)) { return 9; }
    var name = key.slice(0, key.lastIndexOf(" "));  // k = folded name + " " + code
    var code = key.slice(key.lastIndexOf(" ") + 1);
    if (name === q || code === q) { return 0; }
    if (name.indexOf(q) === 0) { return 1; }
    return inOrder(key, words) ? 2 : 3;
  }

  function show() {
    var q = fold(input.value);
    list.innerHTML = "";
    if (!q) { return; }
    var words = q.split(" ");
    // Best first: the name itself, then names that begin with the words, then the words in
    // the order typed; ties keep the index's order (régions, départements, EPCI, zones d'emploi).
    var found = index.map(function (t, i) { return {t: t, i: i, s: score(t.k, q, words)}; })
      .filter(function (x) { return x.s < 9; })
      .sort(function (a, b) { return a.s - b.s || a.i - b.i; })
      .slice(0, 30).map(function (x) { return x.t; });
    found.forEach(function (t) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = t.u;
      a.textContent = t.n;
      var meta = document.createElement("span");
      meta.className = "code";
      meta.textContent = " " + t.l + " " + t.c;
      li.appendChild(a);
      li.appendChild(meta);
      list.appendChild(li);
    });
    if (!found.length) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = "Aucun territoire trouvé.";
      list.appendChild(none);
    }
  }

  input.addEventListener("input", show);
  show();
})();
