// The review page script of `spanqa report`.  It only ever puts note text into the page with
// textContent / text nodes.  No network: the data is the JSON block in the page.
(function () {
  'use strict';
  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String(e.message || e));
    var box = document.getElementById('js-errors');
    if (box) box.textContent = errors.join('\n');
  });

  var DATA = JSON.parse(document.getElementById('spanqa-data').textContent);
  var F = DATA.findings, PS = DATA.page_size, COL = DATA.colors, BY_ID = {};
  F.forEach(function (f) { BY_ID[f.id] = f; });
  var SORTS = ['score', 'confidence', 'doc'], SCOPES = ['spans', 'all'],
      STATUSES = ['', 'open', 'decided', 'unsure', 'disagree'];
  var EMPTY = {kind: '', label: '', max: '', minconf: '', q: '', scope: 'spans', sort: 'score', status: '',
               cell: '', hint: '', all: '', page: 1};
  var state = Object.assign({}, EMPTY);
  var current = 0;          // index of the focused finding in the filtered list
  var editing = null;       // {id, spans: [[start, end, label]], label}
  var expanded = {};        // finding id -> whole note shown

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function option(sel, value, text) { var o = el('option', null, text); o.value = value; sel.appendChild(o); }
  function button(text, cls, title, onclick) {
    var b = el('button', cls, text);
    b.type = 'button';
    if (title) b.title = title;
    b.addEventListener('click', onclick);
    return b;
  }

  // ---- decisions: kept in the browser (localStorage, keyed by run), downloaded as JSONL for `spanqa apply`
  var KEY = 'spanqa-decisions:' + DATA.run_key, RKEY = 'spanqa-reviewer', NKEY = KEY + ':notes';
  var DEC = {}, NOTES = {}, OTHER = {}, HISTORY = [], storageOk = true;
  try { DEC = JSON.parse(localStorage.getItem(KEY) || '{}') || {}; } catch (e) { storageOk = false; DEC = {}; }
  try { NOTES = JSON.parse(localStorage.getItem(NKEY) || '{}') || {}; } catch (e) { NOTES = {}; }
  Object.keys(DEC).forEach(function (id) { if (!BY_ID[id]) delete DEC[id]; });
  function save() {
    try {
      localStorage.setItem(KEY, JSON.stringify(DEC));
      localStorage.setItem(NKEY, JSON.stringify(NOTES));
    } catch (e) { storageOk = false; }
  }
  function reviewer() { return ($('reviewer') && $('reviewer').value.trim()) || ''; }
  function decide(id, rec) {
    HISTORY.push({id: id, prev: DEC[id] || null});
    if (rec) {
      rec.time = new Date().toISOString();
      if (reviewer()) rec.reviewer = reviewer();
      DEC[id] = rec;
    } else {
      delete DEC[id];
    }
    save();
  }
  function undo() {
    var h = HISTORY.pop();
    if (!h) return null;
    (h.bulk || [h]).forEach(function (x) { if (x.prev) DEC[x.id] = x.prev; else delete DEC[x.id]; });
    save();
    return h.id || (h.bulk.length ? h.bulk[0].id : null);
  }
  // every finding shown under the filter and not yet decided, in one step (one undo), after a confirm naming the count
  function bulk(decision) {
    var todo = LIST.filter(function (f) { return !DEC[f.id] && (decision !== 'accept' || f.has_fix); });
    if (!todo.length) { window.alert('Nothing to ' + decision + ': every finding shown is decided'
                                     + (decision === 'accept' ? ' or has no fix' : '') + '.'); return; }
    var what = activeText() || 'no filter: the whole list';
    if (!window.confirm(decision.charAt(0).toUpperCase() + decision.slice(1) + ' the ' + todo.length
                        + ' undecided findings shown (' + what + ')? Decided ones stay as they are.')) return;
    var h = {bulk: []}, when = new Date().toISOString();
    todo.forEach(function (f) {
      h.bulk.push({id: f.id, prev: null});
      DEC[f.id] = {decision: decision, time: when, bulk: true};
      if (reviewer()) DEC[f.id].reviewer = reviewer();
    });
    HISTORY.push(h);
    save();
    render();
  }
  function kindOf(rec) { return !rec ? '' : rec.spans ? 'edit' : rec.decision; }
  var SAID = {accept: 'accepted', reject: 'rejected', edit: 'accepted with your spans', unsure: 'unsure / guideline question'};
  function decisionsJsonl() {
    return F.filter(function (f) { return DEC[f.id]; }).map(function (f) {
      var d = DEC[f.id], out = {finding_id: f.id, decision: d.decision};
      if (d.spans) {
        out.spans = d.spans.map(function (s) { return {start: s[0], end: s[1], label: s[2]}; });
        out.reason = 'edited in the spanqa report';
      }
      if (NOTES[f.id]) out.reason = NOTES[f.id];
      if (d.reviewer) out.reviewer = d.reviewer;
      if (d.time) out.time = d.time;
      return JSON.stringify(out);
    }).join('\n') + (Object.keys(DEC).length ? '\n' : '');
  }
  function download() {
    var blob = new Blob([decisionsJsonl()], {type: 'application/x-ndjson'});
    var a = el('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'decisions.jsonl';
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  function progress() {
    var n = {accept: 0, reject: 0, edit: 0, unsure: 0};
    Object.keys(DEC).forEach(function (id) { n[kindOf(DEC[id])]++; });
    var done = n.accept + n.reject + n.edit;
    var p = $('progress');
    p.textContent = 'reviewed ' + done + ' of ' + F.length + ' \u00b7 accepted ' + (n.accept + n.edit)
      + ' (edited ' + n.edit + ') \u00b7 rejected ' + n.reject + ' \u00b7 unsure ' + n.unsure
      + (Object.keys(OTHER).length ? ' \u00b7 disagreements ' + Object.keys(OTHER).length : '');
    p.setAttribute('data-done', done);
    $('store-note').textContent = storageOk ? 'kept in this browser' : 'not saved (browser storage is off): download';
  }

  // ---- import a decisions file (another machine, another reviewer): what this browser has not decided is taken,
  // what it decided differently is kept and marked as a disagreement to talk over
  function importDecisions(text, name) {
    var taken = 0, same = 0, differ = 0, unknown = 0, bad = 0;
    text.split(/\r?\n/).forEach(function (line) {
      if (!line.trim()) return;
      var r;
      try { r = JSON.parse(line); } catch (e) { bad++; return; }
      var id = r && (r.finding_id || r.id);
      if (!id || !BY_ID[id] || ['accept', 'reject', 'unsure'].indexOf(r.decision) < 0) { unknown++; return; }
      var rec = {decision: r.decision, time: r.time || new Date().toISOString(), imported: name};
      if (r.reviewer) rec.reviewer = r.reviewer;
      if (Array.isArray(r.spans)) rec.spans = r.spans.map(function (s) { return [s.start, s.end, s.label]; });
      if (r.reason && !NOTES[id] && r.reason !== 'edited in the spanqa report') NOTES[id] = r.reason;
      var mine = DEC[id];
      if (!mine) { DEC[id] = rec; taken++; }
      else if (kindOf(mine) === kindOf(rec) && JSON.stringify(mine.spans || null) === JSON.stringify(rec.spans || null)) same++;
      else { OTHER[id] = rec; differ++; }
    });
    save();
    return 'imported ' + name + ': ' + taken + ' new decisions taken, ' + same + ' the same as yours, ' + differ
      + ' disagree with yours (status: disagreement)' + (unknown ? ', ' + unknown + ' not findings of this run' : '')
      + (bad ? ', ' + bad + ' lines not JSON' : '');
  }

  // ---- state in the URL hash: #kind=type&label=Drug&max=0.3&q=text&page=2 (shareable views)
  function decode(s) {  // a malformed % escape (a hand-edited or cut link) is read literally, not a URIError
    try { return decodeURIComponent(s); } catch (e) { return s; }
  }
  function readHash() {
    state = Object.assign({}, EMPTY);
    var h = location.hash.replace(/^#/, '');
    if (!h || /test$/.test(h)) return;
    h.split('&').forEach(function (kv) {
      var p = kv.split('='), k = decode(p[0]), v = decode(p.slice(1).join('=') || '');
      if (k in state) state[k] = (k === 'page') ? Math.max(1, parseInt(v, 10) || 1) : v;
    });
  }
  function writeHash() {
    if (/test$/.test(location.hash)) return;
    var parts = [];
    Object.keys(EMPTY).forEach(function (k) {
      if (k !== 'page' && state[k] !== EMPTY[k]) parts.push(k + '=' + encodeURIComponent(state[k]));
    });
    if (state.page > 1) parts.push('page=' + state.page);
    try { history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.pathname + location.search); }
    catch (e) { /* file:// in some browsers */ }
  }
  function unknownValues() {  // filter values no finding has (a stale or mistyped link): say so
    var bad = [];
    if (state.kind && DATA.kinds.indexOf(state.kind) < 0) bad.push('kind "' + state.kind + '"');
    if (state.label && DATA.labels.indexOf(state.label) < 0) bad.push('label "' + state.label + '"');
    if (SORTS.indexOf(state.sort) < 0) { bad.push('sort "' + state.sort + '"'); state.sort = 'score'; }
    if (SCOPES.indexOf(state.scope) < 0) { bad.push('text scope "' + state.scope + '"'); state.scope = 'spans'; }
    if (STATUSES.indexOf(state.status) < 0) { bad.push('status "' + state.status + '"'); state.status = ''; }
    if (state.max !== '' && isNaN(parseFloat(state.max))) bad.push('max score "' + state.max + '"');
    if (state.minconf !== '' && isNaN(parseFloat(state.minconf))) bad.push('min confidence "' + state.minconf + '"');
    if (state.hint && !DATA.hints[state.hint]) bad.push('hint "' + state.hint + '"');
    return bad;
  }

  // ---- filtering and order
  function docText(f) { return DATA.docs[f.doc_id] || ''; }
  function spanTexts(f) {
    if (!f.window) return (f.texts ? f.texts.labels.concat(f.texts.suggestion) : []).join(' ');
    var t = docText(f);
    return f.labels.concat(f.suggestion).map(function (s) { return t.slice(s[0], s[1]); }).join(' ');
  }
  function windowText(f) { return f.window ? docText(f).slice(f.window[0], f.window[1]) : ''; }
  function matches(f) {
    if (state.kind && f.kind !== state.kind) return false;
    if (state.label && f.labels_all.indexOf(state.label) < 0) return false;
    if (state.max !== '' && !(f.score <= parseFloat(state.max))) return false;
    if (state.minconf !== '' && !(f.confidence >= parseFloat(state.minconf))) return false;
    if (state.cell && f.cells.indexOf(state.cell) < 0) return false;
    if (state.hint && (DATA.hints[state.hint] || []).indexOf(f.id) < 0) return false;
    if (state.status === 'open' && DEC[f.id]) return false;
    if (state.status === 'decided' && !DEC[f.id]) return false;
    if (state.status === 'unsure' && kindOf(DEC[f.id]) !== 'unsure') return false;
    if (state.status === 'disagree' && !OTHER[f.id]) return false;
    if (state.q) {
      var q = state.q.toLowerCase(), hay = spanTexts(f) + ' ' + f.id + ' ' + f.doc_id;
      if (state.scope === 'all') hay += ' ' + f.message + ' ' + windowText(f);
      if (hay.toLowerCase().indexOf(q) < 0) return false;
    }
    return true;
  }
  function ordered() {
    var list = F.filter(matches);
    if (state.sort === 'confidence') {
      list.sort(function (a, b) { return (b.confidence - a.confidence) || (a.rank - b.rank); });
    } else if (state.sort === 'doc') {
      list.sort(function (a, b) {
        return a.doc_id < b.doc_id ? -1 : a.doc_id > b.doc_id ? 1 : (a.start - b.start) || (a.rank - b.rank);
      });
    }  // 'score': the embedded order (score, then confidence descending: ties at 0 by suggestion confidence)
    return list;
  }

  // ---- highlighted text: the finding's spans strong, the note's other spans dotted
  function tri(x) { return {start: x[0], end: x[1], label: x[2]}; }
  function mark(cls, text, label) {
    var m = el('mark', cls, text);
    m.style.borderColor = COL[label] || '#888';
    return m;
  }
  // Text [a, b) of the finding's document with spans; every piece carries data-o = its document offset,
  // so a selection inside can be mapped back to character offsets.
  function painted(f, a, b, layers, cls) {
    var doc = docText(f), box = el('div', cls), spans = [];
    layers.forEach(function (layer) {
      layer.spans.forEach(function (s) { if (s.start < b && a < s.end) spans.push({s: s, c: layer.cls, rank: layer.rank}); });
    });
    var cuts = [a, b];
    spans.forEach(function (x) { [x.s.start, x.s.end].forEach(function (p) { if (p > a && p < b) cuts.push(p); }); });
    cuts = cuts.filter(function (v, i, arr) { return arr.indexOf(v) === i; }).sort(function (x, y) { return x - y; });
    if (a > 0) box.appendChild(el('span', 'noop', '\u2026'));
    for (var i = 0; i + 1 < cuts.length; i++) {
      var p = cuts[i], q = cuts[i + 1], seg = doc.slice(p, q);
      var cover = spans.filter(function (x) { return x.s.start <= p && x.s.end >= q; });
      var node;
      if (!cover.length) {
        node = el('span', null, seg);
      } else {
        cover.sort(function (x, y) { return (x.rank - y.rank) || ((x.s.end - x.s.start) - (y.s.end - y.s.start)); });
        var top = cover[0];
        node = mark(top.c, seg, top.s.label);
        node.title = cover.map(function (x) { return x.s.label + ' ' + x.s.start + '-' + x.s.end + ' (' + x.c + ')'; })
          .join('; ');
        if (top.s.end === q && top.c !== 'ctx') node.appendChild(el('sup', null, top.s.label));
      }
      node.setAttribute('data-o', p);
      box.appendChild(node);
    }
    if (b < doc.length) box.appendChild(el('span', 'noop', '\u2026'));
    return box;
  }
  function otherSpans(f) {
    var mine = {};
    f.labels.concat(f.suggestion).forEach(function (x) { mine[x.join('|')] = 1; });
    return (DATA.spans[f.doc_id] || []).filter(function (x) { return !mine[x.join('|')]; }).map(tri);
  }
  function highlight(f, which) {
    var strong = f[which].map(tri);
    if (!f.window) {  // no corpus: the recorded texts only
      var box = el('div', 'excerpt');
      strong.forEach(function (s, i) {
        var m = mark('hit', (f.texts && f.texts[which][i]) || '(no text)', s.label);
        m.appendChild(el('sup', null, s.label));
        box.appendChild(m);
        box.appendChild(document.createTextNode(' '));
      });
      if (!strong.length) box.appendChild(el('span', 'noop', which === 'labels' ? 'no labelled span' : 'none'));
      return box;
    }
    var out = painted(f, f.window[0], f.window[1],
                      [{spans: strong, cls: 'hit', rank: 0}, {spans: otherSpans(f), cls: 'ctx', rank: 1}], 'excerpt');
    if (which === 'suggestion' && !strong.length) {
      out.insertBefore(el('div', 'noop', f.action === 'review'
        ? 'no suggestion: the label is questioned, not changed (review only)'
        : 'no span here: the fix removes the labelled one'), out.firstChild);
    }
    return out;
  }
  function wholeNote(f, extra) {
    var doc = docText(f), layers = [{spans: f.labels.map(tri), cls: 'hit', rank: 0},
                                    {spans: f.suggestion.map(tri), cls: 'sug', rank: 1},
                                    {spans: otherSpans(f), cls: 'ctx', rank: 2}];
    if (extra) layers.unshift({spans: extra.map(tri), cls: 'hit', rank: -1});
    var box = painted(f, 0, doc.length, layers, 'note');
    box.setAttribute('data-doc', f.doc_id);
    return box;
  }

  // ---- the word-by-word evidence: the model's tag and probability, and the label's
  function chips(f) {
    var path = f.evidence.predicted_path;
    if (!Array.isArray(path) || !path.length) return null;
    var box = el('div', 'chips');
    path.forEach(function (w) {
      if (!Array.isArray(w)) { box.appendChild(el('span', 'chip', String(w))); return; }
      var c = el('span', 'chip' + (w[1] !== w[3] ? ' differs' : ''));
      c.appendChild(el('b', null, w[0]));
      c.appendChild(document.createTextNode(' model ' + tagName(w[1]) + ' ' + pct(w[2]) + ' \u00b7 label '
                                            + tagName(w[3]) + ' ' + pct(w[4])));
      c.title = 'the model reads this word as ' + tagName(w[1]) + ' (' + pct(w[2]) + '); the label says '
        + tagName(w[3]) + ' (the model gives it ' + pct(w[4]) + ')';
      box.appendChild(c);
    });
    return box;
  }
  function pct(p) { return (typeof p === 'number') ? Math.round(p * 100) + '%' : '?'; }
  // a tag as reviewers say it: "Drug", "Drug (continued)", "no entity" - never B-/I-/O
  function tagName(t) {
    t = String(t);
    if (t === 'O') return 'no entity';
    var m = /^([BIES])-(.*)$/.exec(t);
    return !m ? t : (m[1] === 'I' || m[1] === 'E') ? m[2] + ' (continued)' : m[2];
  }
  // evidence values without 4-decimal numbers: probabilities as percentages, other numbers to 2 decimals
  function plain(v) {
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : (v >= 0 && v <= 1) ? pct(v) : v.toFixed(2);
    if (typeof v === 'string') return /^[BIES]-|^O$/.test(v) ? tagName(v) : v;
    if (Array.isArray(v)) return v.map(plain).join(', ');
    if (v && typeof v === 'object') {
      return Object.keys(v).map(function (k) { return k + ': ' + plain(v[k]); }).join('; ');
    }
    return String(v);
  }

  function evidence(f) {
    var d = el('details'), tb = el('table', 'ev');
    d.appendChild(el('summary', null, 'model evidence'));
    Object.keys(f.evidence).forEach(function (k) {
      if (k === 'predicted_path') return;
      var tr = el('tr'), td = el('td'), v = f.evidence[k];
      tr.appendChild(el('td', null, k));
      td.textContent = plain(v);
      tr.appendChild(td);
      tb.appendChild(tr);
    });
    d.appendChild(tb);
    return d;
  }

  // ---- the span editor: select text in the whole note, give it a label, save = accept with these spans
  function startEdit(f) {
    if (!f.window) return;
    var base = (DEC[f.id] && DEC[f.id].spans) || f.labels;  // start from what is labelled; the suggestion is shown
    editing = {id: f.id, spans: base.map(function (s) { return s.slice(); }),
               label: (f.suggestion[0] || f.labels[0] || [0, 0, DATA.all_labels[0]])[2]};
    render();
  }
  function selectionOffsets(noteBox) {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    var r = sel.getRangeAt(0);
    function at(node, off) {
      var e = node.nodeType === 3 ? node.parentNode : node;
      while (e && e !== noteBox && !e.hasAttribute('data-o')) e = e.parentNode;
      if (!e || e === noteBox) return null;
      var base = parseInt(e.getAttribute('data-o'), 10);
      if (node.nodeType !== 3) return base;
      var before = 0, walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT), t;
      while ((t = walker.nextNode()) && t !== node) {
        if (t.parentNode.tagName !== 'SUP') before += t.length;
      }
      if (node.parentNode.tagName === 'SUP') return base + before;  // inside a label tag: the span's end
      return base + before + off;
    }
    var a = at(r.startContainer, r.startOffset), b = at(r.endContainer, r.endOffset);
    if (a === null || b === null) return null;
    return [Math.min(a, b), Math.max(a, b)];
  }
  function addSelected(f, noteBox) {
    var ab = selectionOffsets(noteBox), doc = docText(f);
    if (!ab) { $('edit-msg').textContent = 'select the words in the note first'; return; }
    var a = ab[0], b = ab[1];
    while (a < b && /\s/.test(doc[a])) a++;
    while (b > a && /\s/.test(doc[b - 1])) b--;
    if (a >= b) { $('edit-msg').textContent = 'the selection holds no text'; return; }
    editing.spans = editing.spans.filter(function (s) { return s[1] <= a || b <= s[0]; });  // replaces overlaps
    editing.spans.push([a, b, editing.label]);
    editing.spans.sort(function (x, y) { return x[0] - y[0]; });
    window.getSelection().removeAllRanges();
    render();
  }
  function saveEdit() {
    var f = BY_ID[editing.id], same = JSON.stringify(editing.spans) === JSON.stringify(f.suggestion);
    decide(f.id, same && f.suggestion.length ? {decision: 'accept'}
                      : {decision: 'accept', spans: editing.spans.map(function (s) { return s.slice(); })});
    editing = null;
    render();
  }
  // words of a note (letters/digits runs, single other characters), for the edge handles: no character offsets
  var WORDS = {};
  function words(doc) {
    if (!WORDS[doc]) {
      var out = [], re = /[A-Za-z0-9\u00C0-\uFFFF]+|[^\sA-Za-z0-9\u00C0-\uFFFF]/g, m;
      while ((m = re.exec(doc)) !== null) out.push([m.index, m.index + m[0].length]);
      WORDS = {}; WORDS[doc] = out;
    }
    return WORDS[doc];
  }
  // move one edge of span s (edge 0 = start, 1 = end) by one word; a span never becomes empty
  function nudge(doc, s, edge, dir) {
    var W = words(doc), i;
    if (edge === 0) {
      if (dir < 0) { for (i = W.length - 1; i >= 0; i--) if (W[i][0] < s[0]) { s[0] = W[i][0]; break; } }
      else { for (i = 0; i < W.length; i++) if (W[i][0] > s[0] && W[i][0] < s[1]) { s[0] = W[i][0]; break; } }
    } else {
      if (dir > 0) { for (i = 0; i < W.length; i++) if (W[i][1] > s[1]) { s[1] = W[i][1]; break; } }
      else { for (i = W.length - 1; i >= 0; i--) if (W[i][1] < s[1] && W[i][1] > s[0]) { s[1] = W[i][1]; break; } }
    }
    render();
  }
  function editor(f) {
    var box = el('div', 'editor'), doc = docText(f);
    box.appendChild(el('h4', null, 'your spans for this finding: move an edge by a word with the arrows, or select '
                       + 'words in the note and add them (the suggestion is dashed)'));
    var note = wholeNote(f, editing.spans);
    var ul = el('ul');
    editing.spans.forEach(function (s, i) {
      var li = el('li');
      var sel = el('select');
      DATA.all_labels.forEach(function (lab) { option(sel, lab, lab); });
      sel.value = s[2];
      sel.addEventListener('change', function () { s[2] = sel.value; render(); });
      li.appendChild(sel);
      li.appendChild(button('\u2190', 'nudge', 'start one word earlier', function () { nudge(doc, s, 0, -1); }));
      li.appendChild(button('\u2192', 'nudge', 'start one word later', function () { nudge(doc, s, 0, 1); }));
      li.appendChild(el('q', 'span-text', doc.slice(s[0], s[1])));
      li.appendChild(button('\u2190', 'nudge', 'end one word earlier', function () { nudge(doc, s, 1, -1); }));
      li.appendChild(button('\u2192', 'nudge', 'end one word later', function () { nudge(doc, s, 1, 1); }));
      li.appendChild(button('remove', 'remove', 'remove this span', function () { editing.spans.splice(i, 1); render(); }));
      ul.appendChild(li);
    });
    if (!editing.spans.length) ul.appendChild(el('li', 'noop', 'no span: saving removes the labelled spans'));
    box.appendChild(ul);
    var bar = el('div', 'decide'), lab = el('select');
    lab.id = 'edit-label';
    DATA.all_labels.forEach(function (l) { option(lab, l, l); });
    lab.value = editing.label;
    lab.addEventListener('change', function () { editing.label = lab.value; });
    bar.appendChild(lab);
    bar.appendChild(button('add selected text', 'add', 'add the selected words as a span with this label',
                           function () { addSelected(f, note); }));
    bar.appendChild(button('save (Enter)', 'accept save', 'accept the finding with these spans', saveEdit));
    bar.appendChild(button('cancel (Esc)', null, null, function () { editing = null; render(); }));
    var msg = el('span', 'muted');
    msg.id = 'edit-msg';
    bar.appendChild(msg);
    box.appendChild(bar);
    box.appendChild(note);
    return box;
  }

  function decisionBar(f) {
    var bar = el('div', 'decide'), rec = DEC[f.id], k = kindOf(rec);
    var st = el('span', 'status ' + k, SAID[k] || 'not reviewed');
    bar.appendChild(st);
    var acc = button('accept (a)', 'accept', f.has_fix ? 'apply the suggested fix' :
                     'no suggestion to apply: use edit to say what the span should be',
                     function () { setCurrent(f); decide(f.id, {decision: 'accept'}); render(); });
    acc.disabled = !f.has_fix;
    bar.appendChild(acc);
    bar.appendChild(button('reject (r)', 'reject', 'keep the labels as they are',
                           function () { setCurrent(f); decide(f.id, {decision: 'reject'}); render(); }));
    var ed = button('edit (e)', 'edit', 'set the spans yourself in the whole note',
                    function () { setCurrent(f); startEdit(f); });
    ed.disabled = !f.window;
    bar.appendChild(ed);
    bar.appendChild(button('unsure (q)', 'unsure', 'not sure, or a question for the guidelines: kept, not applied',
                           function () { setCurrent(f); decide(f.id, {decision: 'unsure'}); render(); }));
    bar.appendChild(button(expanded[f.id] ? 'excerpt (w)' : 'whole note (w)', 'whole', 'show the whole note',
                           function () { setCurrent(f); expanded[f.id] = !expanded[f.id]; render(); }));
    var note = el('input', 'comment');
    note.type = 'text';
    note.placeholder = k === 'reject' ? 'why rejected? (kept with the decision)' : 'comment or reason';
    note.value = NOTES[f.id] || '';
    note.setAttribute('aria-label', 'comment on finding ' + f.id);
    note.addEventListener('change', function () {
      if (note.value.trim()) NOTES[f.id] = note.value.trim(); else delete NOTES[f.id];
      save();
    });
    bar.appendChild(note);
    return bar;
  }

  function card(f, isCurrent) {
    var c = el('article', 'finding' + (isCurrent ? ' current' : '') + (DEC[f.id] ? ' dec-' + kindOf(DEC[f.id]) : ''));
    c.setAttribute('data-kind', f.kind);
    c.setAttribute('data-id', f.id);
    c.setAttribute('data-score', f.score);
    c.setAttribute('data-decision', kindOf(DEC[f.id]));
    var h = el('h3');
    h.appendChild(el('span', null, '#' + f.rank));
    h.appendChild(el('span', 'badge kind', f.kind));
    h.appendChild(el('span', 'badge', f.action));
    h.appendChild(el('span', 'badge score', 'label right ' + pct(f.score)));
    h.appendChild(el('span', 'badge', 'fix right ' + pct(f.confidence)));
    if (OTHER[f.id]) {
      var o = OTHER[f.id];
      h.appendChild(el('span', 'badge disagree', 'disagreement: ' + (o.reviewer || 'the imported file') + ' said '
                       + (SAID[kindOf(o)] || o.decision)));
    }
    h.appendChild(el('span', 'muted', 'doc ' + f.doc_id + ' \u00b7 ' + f.id));
    c.appendChild(h);
    if (editing && editing.id === f.id) {
      c.appendChild(el('blockquote', null, f.message));
      c.appendChild(editor(f));
      return c;
    }
    if (expanded[f.id] && f.window) {
      c.appendChild(el('h4', 'muted', 'whole note: labelled spans solid, suggested dashed, other spans dotted'));
      c.appendChild(wholeNote(f));
    } else {
      var cols = el('div', 'cols'), l = el('div', 'col'), r = el('div', 'col');
      l.appendChild(el('h4', null, 'labelled'));
      l.appendChild(highlight(f, 'labels'));
      var saved = DEC[f.id] && DEC[f.id].spans;
      r.appendChild(el('h4', null, saved ? 'your spans (saved)' : 'suggested'));
      r.appendChild(highlight(saved ? Object.assign({}, f, {suggestion: saved}) : f, 'suggestion'));
      cols.appendChild(l);
      cols.appendChild(r);
      c.appendChild(cols);
    }
    c.appendChild(el('blockquote', null, f.message));
    var ch = chips(f);
    if (ch) c.appendChild(ch);
    c.appendChild(evidence(f));
    c.appendChild(decisionBar(f));
    return c;
  }

  var LIST = [];
  function setCurrent(f) { var i = LIST.indexOf(f); if (i >= 0) current = i; }
  // the default view: as many findings as the audit estimates errors, most suspicious first; the rest one click away
  function triaged(list) {
    var t = DATA.triage, box = $('triage'), filtered = activeText() !== '' || state.sort !== 'score';
    box.textContent = '';
    if (!t || filtered) return list;
    if (state.all) {
      box.appendChild(document.createTextNode('All ' + list.length + ' findings. '));
      box.appendChild(button('back to the triage view', 'triage-toggle', '',
                             function () { state.all = ''; state.page = 1; current = 0; render(); }));
      return list;
    }
    box.appendChild(document.createTextNode('Triage view: the ' + t.k + ' findings most likely to be real errors, '
      + 'most suspicious first - as many as the errors the audit estimates (' + t.errors + ', ' + pct(t.rate)
      + ' of the labelled spans). ' + (list.length - t.k) + ' more are behind '));
    box.appendChild(button('show all ' + list.length, 'triage-toggle', '',
                           function () { state.all = '1'; state.page = 1; current = 0; render(); }));
    return list.slice(0, t.k);
  }
  function render() {
    LIST = triaged(ordered());
    var pages = Math.max(1, Math.ceil(LIST.length / PS));
    if (current >= LIST.length) current = Math.max(0, LIST.length - 1);
    if (editing) { var ei = LIST.indexOf(BY_ID[editing.id]); if (ei >= 0) current = ei; }
    state.page = Math.min(Math.max(1, state.page), pages);
    var from = (state.page - 1) * PS;
    if (current < from || current >= from + PS) current = from;
    var show = LIST.slice(from, from + PS), box = $('findings');
    box.textContent = '';
    show.forEach(function (f, i) { box.appendChild(card(f, from + i === current)); });
    var count = $('count');
    count.textContent = LIST.length
      ? 'findings ' + (from + 1) + '\u2013' + (from + show.length) + ' of ' + LIST.length
        + (LIST.length < F.length ? ' (filtered from ' + F.length + ')' : '')
      : 'no finding matches';
    count.setAttribute('data-total', LIST.length);
    $('page').textContent = 'page ' + state.page + ' / ' + pages;
    $('prev').disabled = state.page <= 1;
    $('next').disabled = state.page >= pages;
    document.querySelectorAll('.confusion td[data-cell]').forEach(function (td) {
      td.classList.toggle('on', td.getAttribute('data-cell') === state.cell);
    });
    var warn = unknownValues();
    $('filter-warn').textContent = warn.length ? 'Not in this run: ' + warn.join(', ') + ' (from the link)' : '';
    $('active').textContent = (state.cell ? 'cell ' + state.cell.replace('|', ' \u2192 ') + '  ' : '')
      + (state.hint ? 'hint #' + state.hint : '');
    progress();
    writeHash();
  }
  // the filter in words, for the bulk confirm
  function activeText() {
    var parts = [];
    ['kind', 'label', 'max', 'minconf', 'q', 'status', 'cell', 'hint'].forEach(function (k) {  // not 'all'
      if (state[k] !== '') parts.push((k === 'max' ? 'max score' : k === 'minconf' ? 'min confidence' : k) + ' ' + state[k]);
    });
    return parts.join(', ');
  }
  function move(step) {
    if (!LIST.length) return;
    current = Math.min(LIST.length - 1, Math.max(0, current + step));
    state.page = Math.floor(current / PS) + 1;
    render();
    var c = document.querySelector('#findings article.current');
    if (c && c.scrollIntoView) c.scrollIntoView({block: 'nearest'});
  }

  function syncInputs() {
    var sets = {'f-kind': 'kind', 'f-label': 'label', 'f-max': 'max', 'f-minconf': 'minconf', 'f-q': 'q',
                'f-scope': 'scope', 'f-sort': 'sort', 'f-status': 'status'};
    Object.keys(sets).forEach(function (id) {
      var input = $(id), v = state[sets[id]];
      if (input.tagName === 'SELECT' && v && !Array.prototype.some.call(input.options, function (o) { return o.value === v; })) {
        option(input, v, '(not in this run: ' + v + ')');  // shown as it is, and reported in #filter-warn
      }
      input.value = v;
    });
  }

  function setup() {
    var ks = $('f-kind'), ls = $('f-label');
    option(ks, '', 'all kinds');
    DATA.kinds.forEach(function (k) { option(ks, k, k); });
    option(ls, '', 'all labels');
    DATA.labels.forEach(function (k) { option(ls, k, k); });
    readHash();
    syncInputs();
    function on(id, key, ev) {
      var input = $(id);
      input.addEventListener(ev, function () { state[key] = input.value; state.page = 1; current = 0; render(); });
    }
    on('f-kind', 'kind', 'change'); on('f-label', 'label', 'change'); on('f-max', 'max', 'input');
    on('f-minconf', 'minconf', 'input'); on('f-q', 'q', 'input'); on('f-scope', 'scope', 'change');
    on('f-sort', 'sort', 'change'); on('f-status', 'status', 'change');
    $('prev').onclick = function () { state.page--; current = (state.page - 1) * PS; render(); };
    $('next').onclick = function () { state.page++; current = (state.page - 1) * PS; render(); };
    $('reset').onclick = function () { state = Object.assign({}, EMPTY); current = 0; syncInputs(); render(); };
    $('download').onclick = download;
    $('bulk-accept').onclick = function () { bulk('accept'); };
    $('bulk-reject').onclick = function () { bulk('reject'); };
    $('import').addEventListener('change', function () {
      var file = $('import').files[0];
      if (!file) return;
      var rd = new FileReader();
      rd.onload = function () { $('import-note').textContent = importDecisions(String(rd.result), file.name); render(); };
      rd.readAsText(file);
    });
    $('undo').onclick = function () { undo(); render(); };
    $('clear').onclick = function () {
      if (!Object.keys(DEC).length || window.confirm('Forget every decision made in this browser for this run?')) {
        DEC = {}; HISTORY = []; save(); render();
      }
    };
    var rv = $('reviewer');
    try { rv.value = localStorage.getItem(RKEY) || ''; } catch (e) { /* storage off */ }
    rv.addEventListener('input', function () { try { localStorage.setItem(RKEY, rv.value); } catch (e) { /* off */ } });
    document.querySelectorAll('.confusion td[data-cell]').forEach(function (td) {
      td.addEventListener('click', function () {
        var cell = td.getAttribute('data-cell');
        state.cell = state.cell === cell ? '' : cell; state.page = 1; current = 0; render();
        $('review').scrollIntoView();
      });
    });
    document.querySelectorAll('[data-hint]').forEach(function (a) {
      a.addEventListener('click', function (e) {
        e.preventDefault();
        state.hint = a.getAttribute('data-hint'); state.page = 1; current = 0; render();
        $('review').scrollIntoView();
      });
    });
    window.addEventListener('hashchange', function () {
      if (/test$/.test(location.hash)) return;
      readHash(); syncInputs(); current = (state.page - 1) * PS; render();
    });
    document.addEventListener('keydown', onKey);
    render();
  }

  function onKey(e) {
    var t = e.target, typing = t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA');
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (editing) {
      if (e.key === 'Escape') { editing = null; render(); e.preventDefault(); }
      else if (e.key === 'Enter' && !typing) { saveEdit(); e.preventDefault(); }
      return;
    }
    if (typing) return;
    var f = LIST[current];
    switch (e.key) {
      case 'j': case 'ArrowDown': move(1); break;
      case 'k': case 'ArrowUp': move(-1); break;
      case 'a': if (f && f.has_fix) { decide(f.id, {decision: 'accept'}); move(1); } break;
      case 'r': if (f) { decide(f.id, {decision: 'reject'}); move(1); } break;
      case 'q': if (f) { decide(f.id, {decision: 'unsure'}); move(1); } break;
      case 'e': if (f) startEdit(f); break;
      case 'w': if (f) { expanded[f.id] = !expanded[f.id]; render(); } break;
      case 'u': { var id = undo(); if (id) { var i = LIST.indexOf(BY_ID[id]); if (i >= 0) current = i; } render(); break; }
      default: return;
    }
    e.preventDefault();
  }

  // ---- #selftest: render, filter by the rarest kind, reset, page; the result goes into <pre id="selftest">
  function selftest() {
    var out = {ok: false, total: F.length, errors: errors};
    try {
      var cards = function () { return Array.prototype.slice.call(document.querySelectorAll('#findings article.finding')); };
      var total = function () { return parseInt($('count').getAttribute('data-total'), 10); };
      state.all = '1';  // the whole list, past the triage cut-off
      render();
      out.rendered = cards().length;
      out.expected_first_page = Math.min(PS, F.length);
      var counts = {};
      F.forEach(function (f) { counts[f.kind] = (counts[f.kind] || 0) + 1; });
      var kind = Object.keys(counts).sort(function (a, b) { return counts[a] - counts[b]; })[0];
      var ks = $('f-kind');
      ks.value = kind;
      ks.dispatchEvent(new Event('change'));
      var after = cards();
      out.filter_kind = kind;
      out.filtered = total();
      out.filtered_expected = counts[kind] || 0;
      out.filtered_rendered = after.length;
      out.filtered_all_match = after.every(function (c) { return c.getAttribute('data-kind') === kind; });
      ks.value = '';
      ks.dispatchEvent(new Event('change'));
      out.reset_total = total();
      if (F.length > PS) {
        $('next').click();
        out.page2_rendered = cards().length;
        out.page2_first_rank = parseInt(cards()[0].querySelector('h3 span').textContent.slice(1), 10);
        $('prev').click();
      }
      out.marks = document.querySelectorAll('#findings mark').length;
      out.chips = document.querySelectorAll('#findings .chip').length;
      out.ok = out.rendered === out.expected_first_page && out.filtered === out.filtered_expected
        && out.filtered_all_match && out.reset_total === F.length
        && (F.length <= PS || out.page2_first_rank === PS + 1) && errors.length === 0;
    } catch (e) {
      out.exception = String(e);
    }
    var pre = $('selftest');
    pre.textContent = JSON.stringify(out);
    pre.setAttribute('data-ok', out.ok ? 'true' : 'false');
    document.title = (out.ok ? 'SELFTEST OK ' : 'SELFTEST FAILED ') + document.title;
  }

  setup();
  if (location.hash === '#selftest') selftest();
  window.spanqaReview = {decisionsJsonl: decisionsJsonl};  // for the browser tests
})();
