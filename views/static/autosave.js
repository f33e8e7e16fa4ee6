// Hansewiki editor: keeps what people type. While they write, the form is
// saved on the server as their private draft (a pause in typing triggers
// it); when the server cannot be reached or the session has ended, the
// text is kept in this browser's storage instead, and the editor offers it
// again on return. Leaving with changes that were not saved as a change
// asks first. Without JavaScript the form works as before; the server then
// keeps the text of a form posted after the session ended.
(function () {
  "use strict";
  var form = document.querySelector("form.editor");
  if (!form || !window.fetch || !form.dataset.autosaveUrl) return;
  var status = document.getElementById("autosave-status");
  var msg = status.dataset;
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var url = form.dataset.autosaveUrl;
  // Per person and target: a shared office computer never offers one
  // person's text to another.
  var storeKey = "hansewiki:autosave:" + form.dataset.user + ":" + form.dataset.autosaveKey;
  var delay = 2000;

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.type !== "submit" && el.type !== "button";
    });
  }
  // The form as a plain object: name → values, empty ones left out.
  function snapshot() {
    var out = {};
    fields().forEach(function (el) {
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      var v = el.value.replace(/\r\n?/g, "\n");
      if (v !== "") (out[el.name] = out[el.name] || []).push(v);
    });
    return out;
  }
  function canon(o) {
    return JSON.stringify(Object.keys(o).sort().map(function (k) { return [k, o[k]]; }));
  }
  function fill(data) {
    fields().forEach(function (el) {
      var vs = data[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") el.checked = vs.indexOf(el.value) >= 0;
      else el.value = vs[0] || "";
    });
    // The live preview and the autosave follow.
    form.querySelector("#body").dispatchEvent(new Event("input", { bubbles: true }));
  }

  function readLocal() {
    try { return JSON.parse(localStorage.getItem(storeKey)); } catch (e) { return null; }
  }
  function keepLocal(snap, submitted) {
    try {
      localStorage.setItem(storeKey, JSON.stringify({ at: Date.now(), fields: snap, submitted: !!submitted }));
      return true;
    } catch (e) { return false; }
  }
  function dropLocal() {
    try { localStorage.removeItem(storeKey); } catch (e) { /* storage disabled */ }
  }

  // The status line is a live region: it changes only when the state or
  // the shown minute changes, so it stays quiet while someone types.
  var state = "";
  function show(next, text) {
    state = next;
    if (status.textContent !== text) status.textContent = text;
  }

  var initial = canon(snapshot());
  var lastSaved = initial;
  var timer = null, inflight = false, again = false, submitting = false;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }
  function save() {
    timer = null;
    if (submitting) return;
    var snap = snapshot(), c = canon(snap);
    if (c === lastSaved) return;
    if (inflight) { again = true; return; }
    inflight = true;
    var data = new URLSearchParams();
    Object.keys(snap).forEach(function (k) {
      snap[k].forEach(function (v) { data.append(k, v); });
    });
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
      body: data.toString()
    }).then(function (r) {
      if (r.ok) {
        return r.json().then(function (j) {
          lastSaved = c;
          dropLocal();
          show("saved", j.message);
        });
      }
      keepLocal(snap);
      // A session that ended answers 401, or 403 for its stale token.
      if (r.status === 401 || r.status === 403) show("expired", msg.expired);
      else if (r.status === 413) show("large", msg.tooLarge);
      else show("offline", msg.offline);
    }).catch(function () {
      keepLocal(snap);
      show("offline", msg.offline);
    }).then(function () {
      inflight = false;
      if (again) { again = false; schedule(); }
    });
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  window.addEventListener("online", schedule);

  form.addEventListener("submit", function () {
    submitting = true;
    clearTimeout(timer);
    // Whatever the answer, the text is in this browser until the server
    // confirms it: marked as sent, so it is offered again only while the
    // server still keeps a draft (a save removes the draft there).
    keepLocal(snapshot(), true);
  });
  // The browser asks before leaving changes that were not saved as a
  // change; its own wording is shown, custom text is ignored.
  window.addEventListener("beforeunload", function (e) {
    if (submitting || canon(snapshot()) === initial) return;
    e.preventDefault();
    e.returnValue = "";
  });
  // Back to the page from the back-forward cache: it may be submitted again.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) submitting = false;
  });

  function notice(text, onRestore, onDiscard) {
    var box = document.createElement("div");
    box.className = "notice autosave-offer";
    box.id = "autosave-local";
    var p = document.createElement("p");
    p.id = "autosave-local-text";
    p.textContent = text;
    var actions = document.createElement("div");
    actions.className = "actions";
    [[msg.restore, "", onRestore], [msg.discard, "secondary", onDiscard]].forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = b[1];
      button.textContent = b[0];
      button.setAttribute("aria-describedby", p.id);
      button.addEventListener("click", function () {
        b[2]();
        box.remove();
        form.querySelector("#title").focus();
      });
      actions.appendChild(button);
    });
    box.appendChild(p);
    box.appendChild(actions);
    form.parentNode.insertBefore(box, document.getElementById("autosave-offer") || form);
  }

  var local = readLocal();
  if (local && local.fields) {
    var stale = local.submitted && form.dataset.autosaveExists !== "true";
    if (stale || canon(local.fields) === initial) {
      dropLocal();
    } else {
      // Written like the server's dates: the network's time zone.
      var when = new Date(local.at).toLocaleString(document.documentElement.lang || "de",
        { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Berlin" });
      notice(msg.localOffer.replace("%s", when), function () {
        fill(local.fields);
        show("restored", msg.restoredLocal);
      }, function () {
        dropLocal();
        show("discarded", msg.discarded);
      });
    }
  }

  // Discarding the server's draft without leaving the page.
  var discard = document.querySelector("form[data-autosave-discard]");
  if (discard) {
    discard.addEventListener("submit", function (e) {
      e.preventDefault();
      fetch(discard.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
        body: "op=discard"
      }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        document.getElementById("autosave-offer").remove();
        show("discarded", msg.discarded);
        form.querySelector("#title").focus();
      }).catch(function () { discard.submit(); });
    });
  }
})();
