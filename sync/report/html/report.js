// Filters for the convirza-sync HTML report. The page is complete without
// this script; it only hides and opens what is already there.
(function () {
  'use strict';
  var form = document.getElementById('flt');
  if (!form) { return; }
  form.hidden = false;
  var q = document.getElementById('q');
  var shown = document.getElementById('shown');
  var items = null, nodes = null;
  function txt(el, sel) {
    var s = '';
    var found = el.querySelectorAll(sel);
    for (var i = 0; i < found.length; i++) { s += ' ' + found[i].textContent; }
    return s.toLowerCase();
  }
  // index is built on first use, so the page loads without it.
  function index() {
    if (items) { return; }
    nodes = [];
    var byEl = new Map();
    var ds = document.querySelectorAll('details.g');
    for (var i = 0; i < ds.length; i++) {
      var d = ds[i], sum = d.querySelector(':scope>summary');
      var n = { el: d, s: sum ? txt(sum, ':scope>.n,:scope>.r') : '', v: false, parent: null };
      byEl.set(d, n);
      nodes.push(n);
    }
    for (var j = 0; j < nodes.length; j++) {
      var p = nodes[j].el.parentElement && nodes[j].el.parentElement.closest('details.g');
      nodes[j].parent = p ? byEl.get(p) : null;
    }
    items = [];
    var cs = document.querySelectorAll('li.c');
    for (var k = 0; k < cs.length; k++) {
      var c = cs[k], d2 = c.closest('details.g');
      items.push({ el: c, a: c.classList[1], k: c.getAttribute('data-k'), s: txt(c, ':scope>.n,:scope>.r'), node: d2 ? byEl.get(d2) : null });
    }
  }
  function checked(name) {
    var set = new Set(), all = 0;
    var bs = form.querySelectorAll('input[name=' + name + ']');
    for (var i = 0; i < bs.length; i++) { all++; if (bs[i].checked) { set.add(bs[i].value); } }
    set.narrowed = set.size < all;
    return set;
  }
  function apply() {
    index();
    var acts = checked('a'), kinds = checked('k');
    var s = q.value.trim().toLowerCase();
    var filtering = acts.narrowed || kinds.narrowed || s !== '';
    var n = 0, i;
    for (i = 0; i < nodes.length; i++) { nodes[i].v = !filtering; }
    for (i = 0; i < items.length; i++) {
      var it = items[i];
      var vis = acts.has(it.a) && kinds.has(it.k) && (s === '' || it.s.indexOf(s) >= 0);
      it.el.hidden = !vis;
      if (vis) { n++; if (it.node) { it.node.v = true; } }
    }
    if (filtering) {
      // Children come after their parents in document order.
      for (i = nodes.length - 1; i >= 0; i--) {
        var nd = nodes[i];
        if (!nd.v && s !== '' && !acts.narrowed && !kinds.narrowed && nd.s.indexOf(s) >= 0) { nd.v = true; }
        if (nd.v && nd.parent) { nd.parent.v = true; }
      }
    }
    for (i = 0; i < nodes.length; i++) {
      nodes[i].el.hidden = !nodes[i].v;
      if (filtering && nodes[i].v) { nodes[i].el.open = true; }
    }
    shown.textContent = filtering ? 'Showing ' + n + ' of ' + items.length + ' changes.' : '';
  }
  var timer = 0;
  form.addEventListener('change', apply);
  form.addEventListener('submit', function (e) { e.preventDefault(); apply(); });
  q.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  function openAll(open) {
    var ds = document.querySelectorAll('details.g');
    for (var i = 0; i < ds.length; i++) { ds[i].open = open; }
  }
  document.getElementById('expand').addEventListener('click', function () { openAll(true); });
  document.getElementById('collapse').addEventListener('click', function () { openAll(false); });
}());
