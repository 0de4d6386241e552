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

  function show() {
    var q = fold(input.value);
    list.innerHTML = "";
    if (!q) { return; }
    var words = q.split(" ");
    var found = index.filter(function (t) { return matches(t.k, words); }).slice(0, 30);
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
