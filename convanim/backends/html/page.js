// convanim figure page: plays the SVG's frames, explains the cell under the pointer.
// Reads #ca-data (convanim.backends.html.data.page_data). Frame N shows every element
// whose data-frames="A-B" range holds N (and every element without one).
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("ca-data").textContent);
  var root = document.querySelector(".ca-page");
  var svg = root.querySelector(".ca-figure svg");
  var $ = function (cls) { return root.querySelector("." + cls); };
  var slider = $("ca-slider"), playBtn = $("ca-play"), pos = $("ca-pos"),
      stepLine = $("ca-step"), detail = $("ca-detail"), speedSel = $("ca-speed");
  var n = D.frames, frame = -1, timer = null, speed = 1, plays = 0, pinned = null;
  var hintText = detail.textContent;
  var NS = "http://www.w3.org/2000/svg";
  var embed = location.hash === "#embed";
  if (embed) document.documentElement.classList.add("ca-embed");

  // Frames ------------------------------------------------------------------------------
  var groups = [];
  svg.querySelectorAll("[data-frames]").forEach(function (el) {
    var r = el.getAttribute("data-frames").split("-");
    groups.push({ a: +r[0], b: +r[1], el: el, on: null });
  });

  function show(k) {
    k = Math.max(0, Math.min(n - 1, k));
    for (var i = 0; i < groups.length; i++) {
      var g = groups[i], on = g.a <= k && k <= g.b;
      if (g.on !== on) { g.on = on; g.el.style.visibility = on ? "visible" : "hidden"; }
    }
    frame = k;
    slider.value = String(k);
    slider.setAttribute("aria-valuetext", "frame " + (k + 1) + " of " + n);
    pos.textContent = (k + 1) + " / " + n;
    stepLine.textContent = D.text[k] || "";
    root.setAttribute("data-frame", String(k));
    // A kernel cell's explanation is about the current step: redo it for the new one.
    // With channels every row's map and slice depend on the step too.
    if (shown && (D.ch || shown.indexOf("kernel ") === 0)) {
      var again = shown.split(" ");
      shown = null;
      select([again[0], +again[1], +again[2]]);
    }
  }

  function setPlaying(on) {
    playBtn.setAttribute("aria-label", on ? "pause" : "play");
    root.setAttribute("data-playing", on ? "true" : "false");
  }
  function tick() {
    timer = setTimeout(function () {
      if (frame + 1 < n) { show(frame + 1); tick(); return; }
      plays += 1;
      if (D.plays && plays >= D.plays) { pause(); return; }
      show(0); tick();
    }, D.ms / speed);
  }
  function play() {
    if (timer) return;
    if (frame >= n - 1 && D.plays) { plays = 0; show(0); }
    setPlaying(true); tick();
  }
  function pause() {
    if (timer) { clearTimeout(timer); timer = null; }
    setPlaying(false);
  }
  function toggle() { if (timer) pause(); else play(); }
  function step(by) { pause(); show(frame + by); }

  playBtn.addEventListener("click", toggle);
  $("ca-prev").addEventListener("click", function () { step(-1); });
  $("ca-next").addEventListener("click", function () { step(1); });
  slider.addEventListener("input", function () { pause(); show(+slider.value); });
  speedSel.addEventListener("change", function () {
    speed = +speedSel.value || 1;
    if (timer) { clearTimeout(timer); timer = null; tick(); }
  });

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var t = e.target, tag = t && t.tagName;
    var native = tag === "BUTTON" || tag === "SELECT" || tag === "A";
    if (e.key === " " && !native) { toggle(); }
    else if (t === slider && /^(Arrow|Home|End|Page)/.test(e.key)) { return; }  // the slider's own
    else if (tag === "SELECT" && /^Arrow/.test(e.key)) { return; }
    else if (e.key === "ArrowRight") { step(1); }
    else if (e.key === "ArrowLeft") { step(-1); }
    else if (e.key === "Home") { pause(); show(0); }
    else if (e.key === "End") { pause(); show(n - 1); }
    else if (e.key === "Escape") { pin(null); }
    else { return; }
    e.preventDefault();
  });

  // Numbers, as the figure writes them (convanim.text.fmt_num) ----------------------------
  function fmt(v) {
    var d = 0;
    for (; d < 2; d++) {
      if (Math.abs(v - Number(v.toFixed(d))) <= 1e-9 * Math.max(1, Math.abs(v))) break;
    }
    var s = v.toFixed(d);
    return /^-?[0.]*$/.test(s) ? "0" : s;
  }

  // Cells ---------------------------------------------------------------------------------
  var grids = D.grids, picks = {};
  Object.keys(grids).forEach(function (name) {
    var c = grids[name].cells, set = {};
    for (var i = 0; i < c.length; i += 2) set[c[i] + "," + c[i + 1]] = true;
    picks[name] = set;
  });
  var layer = document.createElementNS(NS, "g");
  layer.setAttribute("class", "ca-hl");
  layer.setAttribute("aria-hidden", "true");
  svg.appendChild(layer);

  function corner(g, r, c) { return [g.o[0] + c * g.u[0] + r * g.v[0], g.o[1] + c * g.u[1] + r * g.v[1]]; }
  function pathOf(g, r0, c0, r1, c1) {
    var p = [corner(g, r0, c0), corner(g, r0, c1), corner(g, r1, c1), corner(g, r1, c0)];
    return "M" + p.map(function (q) { return q[0].toFixed(2) + " " + q[1].toFixed(2); }).join("L") + "Z";
  }
  // Stacked planes (the iso picture of channels): a grid covered in part by the grids
  // drawn over it (its "under" list) gets two masks, the part in sight and the covered
  // part; a highlight is drawn solid in sight and only outlined, dashed, where covered,
  // as the figure draws the filter block's hidden edges.
  var masks = {};
  (function () {
    var names = Object.keys(grids).filter(function (k) { return grids[k].under && grids[k].under.length; });
    if (!names.length) return;
    var defs = document.createElementNS(NS, "defs"), vb = svg.viewBox.baseVal;
    names.forEach(function (name) {
      ["seen", "hid"].forEach(function (part) {
        var m = document.createElementNS(NS, "mask");
        m.setAttribute("id", "ca-" + part + "-" + name);
        m.setAttribute("maskUnits", "userSpaceOnUse");
        var all = document.createElementNS(NS, "rect");
        [["x", vb.x], ["y", vb.y], ["width", vb.width], ["height", vb.height]].forEach(function (a) { all.setAttribute(a[0], a[1]); });
        all.setAttribute("fill", part === "seen" ? "#fff" : "#000");
        m.appendChild(all);
        grids[name].under.forEach(function (o) {
          var b = grids[o].box, el = document.createElementNS(NS, "path");
          el.setAttribute("d", pathOf(grids[o], b[0], b[1], b[2], b[3]));
          el.setAttribute("fill", part === "seen" ? "#000" : "#fff");
          m.appendChild(el);
        });
        defs.appendChild(m);
      });
      masks[name] = true;
    });
    svg.insertBefore(defs, layer);  // not in the layer: its paths' style would fill the masks
  })();
  function mark(grid, r, c, kind) {
    var g = grids[grid];
    if (!g) return;
    var d = pathOf(g, r, c, r + 1, c + 1);
    var el = document.createElementNS(NS, "path");
    el.setAttribute("d", d);
    el.setAttribute("data-hl", kind);
    el.setAttribute("data-cell", grid + " " + r + " " + c);
    layer.appendChild(el);
    if (!masks[grid]) return;
    el.setAttribute("mask", "url(#ca-seen-" + grid + ")");
    var under = document.createElementNS(NS, "path");
    under.setAttribute("d", d);
    under.setAttribute("data-under", kind);
    under.setAttribute("mask", "url(#ca-hid-" + grid + ")");
    layer.appendChild(under);
  }
  function cellAt(e) {
    var m = svg.getScreenCTM();
    if (!m) return null;
    m = m.inverse();
    var x = m.a * e.clientX + m.c * e.clientY + m.e, y = m.b * e.clientX + m.d * e.clientY + m.f;
    for (var i = 0; i < D.hit.length; i++) {
      var name = D.hit[i], g = grids[name];
      var px = x - g.o[0], py = y - g.o[1], det = g.u[0] * g.v[1] - g.v[0] * g.u[1];
      var c = Math.floor((px * g.v[1] - g.v[0] * py) / det), r = Math.floor((g.u[0] * py - g.u[1] * px) / det);
      if (picks[name][r + "," + c]) return [name, r, c];
    }
    return null;
  }

  var K = D.k, ow = D.osize[1], iw = D.isize[1], T = D.taps, scatter = D.view === "scatter";
  function tapsOf(s) { var out = []; for (var t = D.start[s]; t < D.start[s + 1]; t++) out.push(t); return out; }
  function tapsWhere(off, r, c) {
    var out = [];
    for (var t = 0; t < D.p.length; t++) if (T[6 * t + off] === r && T[6 * t + off + 1] === c) out.push(t);
    return out;
  }
  // Where a tap's input and weight are drawn: the lower grid in gather view; the kernel flipped.
  // Input cell (y, x) as the lower grid draws it (gather view: padding and inserted zeros between).
  function onLower(y, x) { return [D.origin[0] + y * D.spacing[0], D.origin[1] + x * D.spacing[1]]; }
  function inCell(t) { return onLower(T[6 * t], T[6 * t + 1]); }
  function kernCell(t) {
    var a = T[6 * t + 2], b = T[6 * t + 3];
    return D.flip ? [K[0] - 1 - a, K[1] - 1 - b] : [a, b];
  }
  function xOf(t) { return D.x[T[6 * t]][T[6 * t + 1]]; }
  function wOf(t) { return D.w ? D.w[T[6 * t + 2]][T[6 * t + 3]] : null; }
  function footprint(s, grid) {
    var r0 = D.corner[2 * s], c0 = D.corner[2 * s + 1];
    for (var a = 0; a < K[0]; a++) for (var b = 0; b < K[1]; b++) mark(grid, r0 + a * D.d[0], c0 + b * D.d[1], "foot");
  }
  // Max pooling: the input cell a step's maximum comes from, the engine's winner (the first
  // maximum, row-major): [r, c] in the input's coordinates, or null (not max pooling).
  // (The backward pass of max pooling has the forward's winners too: not a maximum there.)
  var maxPool = D.op === "max_pool2d" && !!D.winner;
  function winner(s) { return maxPool && D.winner[2 * s] >= 0 ? [D.winner[2 * s], D.winner[2 * s + 1]] : null; }
  function term(t) { var w = wOf(t); return w === null ? fmt(xOf(t)) : fmt(xOf(t)) + "*" + fmt(w); }
  // A cell of the lower grid (gather view) that is no input value: what it is, or null.
  function emptyCell(r, c) {
    var y = (r - D.origin[0]) / D.spacing[0], x = (c - D.origin[1]) / D.spacing[1];
    var inside = y >= 0 && x >= 0 && y <= D.isize[0] - 1 && x <= D.isize[1] - 1;
    if (!(y % 1 || x % 1 || !inside)) return null;
    if (inside) return "a zero inserted between input values by the transposed convolution (stride " +
      D.spacing.join(", ") + "); its products add nothing to any output value";
    return "padding, a 0 around the " + (D.spacing[0] > 1 || D.spacing[1] > 1 ? "stretched " : "") +
      "map; its products add nothing to any output value";
  }
  function name(grid, r, c) { return grid + " (" + r + ", " + c + ")"; }

  // An output cell: where it comes from. An input cell: where it goes.
  function explain(cell) {
    var grid = cell[0], r = cell[1], c = cell[2], ts, s, i;
    if (grid === "output" && !scatter) {
      s = r * ow + c; ts = tapsOf(s);
      footprint(s, "input");
      ts.forEach(function (t) { var p = inCell(t); mark("input", p[0], p[1], "tap"); var k = kernCell(t); mark("kernel", k[0], k[1], "kern"); });
      var win = winner(s);
      if (win) { var wp = onLower(win[0], win[1]); mark("input", wp[0], wp[1], "win"); }
      mark("output", r, c, "self");
      return name("output", r, c) + " = " + D.text[s] + (win ? "; the maximum is input (" + win.join(", ") + ")" : "") +
        (ts.length ? "" : " (the kernel covers only padding)");
    }
    if (grid === "output") {  // scatter: every input cell that stamps a product here
      ts = tapsWhere(4, r, c);
      ts.forEach(function (t) { mark("input", T[6 * t], T[6 * t + 1], "tap"); var k = kernCell(t); mark("kernel", k[0], k[1], "kern"); });
      mark("output", r, c, "self");
      return name("output", r, c) + " = " + (ts.map(term).join(" + ") || "0") + " = " + fmt(D.y[r][c]);
    }
    if (grid === "input" && scatter) {
      s = r * iw + c;
      footprint(s, "output");
      tapsOf(s).forEach(function (t) { mark("output", T[6 * t + 4], T[6 * t + 5], "dst"); var k = kernCell(t); mark("kernel", k[0], k[1], "kern"); });
      mark("input", r, c, "self");
      return name("input", r, c) + " = " + fmt(D.x[r][c]) + " stamps: " + D.text[s];
    }
    if (grid === "input") {  // gather: the drawn cell is on the lower grid
      var y = (r - D.origin[0]) / D.spacing[0], x = (c - D.origin[1]) / D.spacing[1];
      mark("input", r, c, "self");
      var empty = emptyCell(r, c);
      if (empty) return name("input", r, c) + ": " + empty;
      ts = tapsWhere(0, y, x);
      ts.forEach(function (t) { mark("output", T[6 * t + 4], T[6 * t + 5], "dst"); });
      var parts = [];
      for (i = 0; i < ts.length; i++) parts.push("(" + T[6 * ts[i] + 4] + ", " + T[6 * ts[i] + 5] + "): " + term(ts[i]) + (D.w ? " = " + fmt(D.p[ts[i]]) : ""));
      return "input (" + y + ", " + x + ") = " + fmt(D.x[y][x]) + " feeds " + ts.length + " output cell" +
        (ts.length === 1 ? "" : "s") + (parts.length ? ": " + parts.join("; ") : "");
    }
    // The kernel (flat style): the products of the current step that use this weight.
    s = frame;
    ts = tapsOf(s).filter(function (t) { var k = kernCell(t); return k[0] === r && k[1] === c; });
    mark("kernel", r, c, "self");
    ts.forEach(function (t) { var p = scatter ? [T[6 * t], T[6 * t + 1]] : inCell(t); mark("input", p[0], p[1], "tap"); });
    return name("kernel", r, c) + (ts.length ? ": " + ts.map(term).join(" + ") + " in this step" : ": no product in this step");
  }

  // Channels (the flat picture): rows in{j} / k{j} show the j-th map of the current step's
  // group and its kernel slice; out{co} are the output maps. A tap is
  // [ci, r, c, <tw weight-index numbers>, co, r, c].
  var C = D.ch, S = C ? 6 + C.tw : 6, OH = D.osize[0];
  function chStep(co, r, c) { return (co * OH + r) * ow + c; }
  function chGroup(co) { return Math.floor(co / C.perOut); }
  function chCo(s) { return Math.floor(s / (OH * ow)); }
  function chTaps(s) { var out = []; for (var t = D.start[s]; t < D.start[s + 1]; t++) out.push(t); return out; }
  function chIn(t) { return onLower(T[S * t + 1], T[S * t + 2]); }
  function chKern(t) {
    var a = T[S * t + 1 + C.tw], b = T[S * t + 2 + C.tw];  // the last two weight indices
    return D.flip ? [K[0] - 1 - a, K[1] - 1 - b] : [a, b];
  }
  function chX(t) { return D.x[T[S * t]][T[S * t + 1]][T[S * t + 2]]; }
  function chW(t) {
    if (!D.w) return null;
    var i = S * t + 3;
    return D.w[T[i]][T[i + 1]][T[i + 2]][T[i + 3]];
  }
  // Max pooling with channels: [ci, r, c] of a step's maximum (see winner), or null.
  function chWinner(s) { return maxPool && D.winner[3 * s] >= 0 ? D.winner.slice(3 * s, 3 * s + 3) : null; }
  function chOut(t) { var i = S * t + 3 + C.tw; return [T[i], T[i + 1], T[i + 2]]; }
  function chRow(ci, co) { return ci - chGroup(co) * C.maps; }  // pooling: groups = maps, row 0
  function chTerm(t) { var w = chW(t); return w === null ? fmt(chX(t)) : fmt(chX(t)) + "*" + fmt(w); }
  // Output co's products (taps ts) map by map: "x[ci]: products = partial sum", one a map.
  function chPartials(co, ts) {
    var parts = [];
    for (var ci = chGroup(co) * C.maps; ci < (chGroup(co) + 1) * C.maps; ci++) {
      var mine = ts.filter(function (t) { return T[S * t] === ci; }), sum = 0;
      mine.forEach(function (t) { sum += D.p[t]; });
      parts.push("x[" + ci + "]: " + (mine.length ? mine.map(chTerm).join(" + ") : "0") + " = " + fmt(sum));
    }
    return parts;
  }
  // The taps that read input value x[ci, y, x] (every output value it feeds).
  function chFeeds(ci, y, x) {
    var ts = [];
    for (var t = 0; t < D.p.length; t++) if (T[S * t] === ci && T[S * t + 1] === y && T[S * t + 2] === x) ts.push(t);
    return ts;
  }
  function explainChannel(cell) {
    var grid = cell[0], r = cell[1], c = cell[2], cur = chCo(frame), s, ts, i;
    if (grid.indexOf("out") === 0) {
      var co = +grid.slice(3);
      s = chStep(co, r, c); ts = chTaps(s);
      var drawn = chGroup(co) === chGroup(cur), own = co === cur;
      if (drawn) {
        for (var j = 0; j < C.maps; j++) footprint(s, "in" + j);
        ts.forEach(function (t) {
          var row = chRow(T[S * t], co), p = chIn(t);
          mark("in" + row, p[0], p[1], "tap");
          if (own && D.w) { var k = chKern(t); mark("k" + row, k[0], k[1], "kern"); }
        });
      }
      var win = chWinner(s);
      if (win && drawn) { var wp = onLower(win[1], win[2]); mark("in" + chRow(win[0], co), wp[0], wp[1], "win"); }
      mark(grid, r, c, "self");
      var head = "y[" + co + "] (" + r + ", " + c + ") = ";
      var where = drawn ? "" : " (its input maps are drawn from frame " + (chStep(co, 0, 0) + 1) + ")";
      var most = win ? "; the maximum is x[" + win[0] + "] (" + win[1] + ", " + win[2] + ")" : "";
      if (!D.w) return head + D.text[s] + " of x[" + co + "]" + most + where;
      var bias = C.bias ? "; bias b(" + fmt(C.bias[co]) + ")" : "";
      return head + chPartials(co, ts).join("; ") + bias + "; " + D.text[s] + where;
    }
    var row = +grid.slice(grid.indexOf("in") === 0 ? 2 : 1);
    var ci0 = C.tw === 2 ? cur : chGroup(cur) * C.maps + row;  // the map the row shows now
    if (grid.indexOf("in") === 0) {
      var y = (r - D.origin[0]) / D.spacing[0], x = (c - D.origin[1]) / D.spacing[1];
      mark(grid, r, c, "self");
      var empty = emptyCell(r, c);
      if (empty) return name(grid, r, c) + " of x[" + ci0 + "]: " + empty;
      ts = chFeeds(ci0, y, x);
      var list = [];
      ts.forEach(function (t) {
        var o = chOut(t);
        mark("out" + o[0], o[1], o[2], "dst");
        list.push("y[" + o[0] + "] (" + o[1] + ", " + o[2] + "): " + chTerm(t) + (D.w ? " = " + fmt(D.p[t]) : ""));
      });
      return "x[" + ci0 + "] (" + y + ", " + x + ") = " + fmt(D.x[ci0][y][x]) + " feeds " + ts.length +
        " output value" + (ts.length === 1 ? "" : "s") + (list.length ? ": " + list.join("; ") : "");
    }
    // A kernel slice (row j): the products of the current step that use this weight.
    ts = chTaps(frame).filter(function (t) { var k = chKern(t); return T[S * t] === ci0 && k[0] === r && k[1] === c; });
    mark(grid, r, c, "self");
    ts.forEach(function (t) { var p = chIn(t); mark("in" + row, p[0], p[1], "tap"); });
    if (!ts.length) {
      // The weight the row's slice shows here (flat_channels.kernel_weight): conv2d
      // w[co, row, r, c]; conv_transpose2d w[ci, co % perOut] flipped.
      var wk = D.flip ? [ci0, cur % C.perOut, K[0] - 1 - r, K[1] - 1 - c] : [cur, row, r, c];
      return "w[" + wk.join(", ") + "] = " + fmt(D.w[wk[0]][wk[1]][wk[2]][wk[3]]) + " (row " + row +
        " (" + r + ", " + c + ")): no product in this step, it meets only padding or inserted zeros";
    }
    var wi = [0, 1, 2, 3].map(function (k) { return T[S * ts[0] + 3 + k]; });
    return "w[" + wi.join(", ") + "] = " + fmt(chW(ts[0])) + ": " + ts.map(chTerm).join(" + ") + " in this step";
  }

  // Channels, the iso picture (C.stacked): in{ci} is input map ci, every one drawn, and
  // out{co} output map co; no kernel grid (the filter is the block over the footprint).
  function chName(o) { return "y[" + o[0] + "," + o[1] + "," + o[2] + "]"; }
  function explainStacked(cell) {
    var grid = cell[0], r = cell[1], c = cell[2], ts, ci;
    if (grid.indexOf("out") === 0) {
      var co = +grid.slice(3), s = chStep(co, r, c), first = chGroup(co) * C.maps;
      ts = chTaps(s);
      for (ci = first; ci < first + C.maps; ci++) footprint(s, "in" + ci);
      ts.forEach(function (t) { var p = chIn(t); mark("in" + T[S * t], p[0], p[1], "tap"); });
      var win = chWinner(s);
      if (win) { var wp = onLower(win[1], win[2]); mark("in" + win[0], wp[0], wp[1], "win"); }
      mark(grid, r, c, "self");
      if (!D.w) return D.text[s] + ", the window on x[" + co + "]" + (win ? "; the maximum is x[" + win.join(",") + "]" : "");
      return D.text[s] + ", where " + chPartials(co, ts).join("; ");
    }
    ci = +grid.slice(2);
    var y = (r - D.origin[0]) / D.spacing[0], x = (c - D.origin[1]) / D.spacing[1];
    mark(grid, r, c, "self");
    var empty = emptyCell(r, c);
    if (empty) return name(grid, r, c) + " of x[" + ci + "]: " + empty;
    ts = chFeeds(ci, y, x);
    var list = ts.map(function (t) {
      var o = chOut(t);
      mark("out" + o[0], o[1], o[2], "dst");
      return chName(o) + ": " + chTerm(t) + (D.w ? " = " + fmt(D.p[t]) : "");
    });
    return "x[" + ci + "," + y + "," + x + "] = " + fmt(D.x[ci][y][x]) + " feeds " + ts.length +
      " output value" + (ts.length === 1 ? "" : "s") + (list.length ? ": " + list.join("; ") : "");
  }

  var shown = null;
  function select(cell) {
    var key = cell ? cell.join(" ") : null;
    if (key === shown) return;
    shown = key;
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    root.setAttribute("data-selected", key || "");
    if (!cell) { detail.textContent = hintText; detail.classList.remove("ca-on"); return; }
    detail.textContent = (pinned ? "pinned (Escape clears): " : "") + (!C ? explain(cell) : C.stacked ? explainStacked(cell) : explainChannel(cell));
    detail.classList.add("ca-on");
  }
  function pin(cell) { pinned = cell; root.setAttribute("data-pinned", cell ? cell.join(" ") : ""); select(cell); }

  svg.addEventListener("pointermove", function (e) { if (!pinned) select(cellAt(e)); });
  svg.addEventListener("pointerleave", function () { if (!pinned) select(null); });
  svg.addEventListener("click", function (e) {
    var cell = cellAt(e);
    if (cell && pinned && cell.join(" ") === pinned.join(" ")) cell = null;  // a second click unpins
    pin(null); pin(cell);
  });

  // The PyTorch call ----------------------------------------------------------------------
  var copy = root.querySelector(".ca-copy");
  if (copy) copy.addEventListener("click", function () {
    var text = root.querySelector(".ca-torch code").textContent;
    var done = function () { copy.textContent = "copied"; setTimeout(function () { copy.textContent = "copy"; }, 1500); };
    var fallback = function () {
      var range = document.createRange();
      range.selectNodeContents(root.querySelector(".ca-torch code"));
      var sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
      try { if (document.execCommand("copy")) done(); } catch (err) { /* left selected to copy by hand */ }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  });

  // In a gallery card: tell the parent how tall the page is.
  if (embed && window.parent !== window) {
    var report = function () { window.parent.postMessage({ convanim: "height", height: document.documentElement.scrollHeight }, "*"); };
    if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
    window.addEventListener("load", report);
  }

  show(0);
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  if (n > 1 && !still) play(); else pause();
})();
