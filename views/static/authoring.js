// Hansewiki writing aid: a Markdown toolbar, file and image upload (button,
// drag and drop, paste) with progress, and wiki-link completion after "[[".
// Progressive enhancement: without JavaScript the text box works as before;
// every label and message comes translated from <template id="editor-tools">.
(function () {
  "use strict";
  var form = document.querySelector("form.editor");
  var tpl = document.getElementById("editor-tools");
  if (!form || !tpl || !window.FormData || !window.XMLHttpRequest) return;
  var body = form.querySelector("#body");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var msg = tpl.dataset;
  body.parentNode.insertBefore(tpl.content.cloneNode(true), body);
  var bar = form.querySelector(".editor-toolbar");
  var fileInput = form.querySelector("#upload-input");
  var status = form.querySelector("#upload-status");
  var progress = form.querySelector("#upload-progress");

  function changed() {
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // replace puts text in place of the selection (undoable where the
  // browser supports execCommand on text fields) and selects part of it.
  function replace(text, selFrom, selTo) {
    var start = body.selectionStart;
    body.focus();
    var done = false;
    try { done = document.execCommand("insertText", false, text); } catch (e) { done = false; }
    if (!done) {
      body.setRangeText(text, start, body.selectionEnd, "end");
    }
    if (selFrom !== undefined) body.setSelectionRange(start + selFrom, start + selTo);
    changed();
  }

  function selected() { return body.value.slice(body.selectionStart, body.selectionEnd); }

  function wrap(before, after, placeholder) {
    var s = selected() || placeholder;
    replace(before + s + after, before.length, before.length + s.length);
  }

  // linePrefix prefixes every selected line (lists, quotes, headings).
  function linePrefix(prefix, numbered) {
    var v = body.value;
    var start = v.lastIndexOf("\n", body.selectionStart - 1) + 1;
    var end = v.indexOf("\n", body.selectionEnd);
    if (end < 0 || body.selectionEnd === body.selectionStart && end < body.selectionStart) end = v.length;
    if (end < body.selectionEnd) end = v.length;
    body.setSelectionRange(start, end);
    var lines = v.slice(start, end).split("\n");
    var out = lines.map(function (l, i) { return (numbered ? (i + 1) + ". " : prefix) + l; }).join("\n");
    replace(out, 0, out.length);
  }

  function block(text) {
    var before = body.value.slice(0, body.selectionStart);
    var lead = before === "" || /\n\n$/.test(before) ? "" : (/\n$/.test(before) ? "\n" : "\n\n");
    replace(lead + text + "\n", lead.length, lead.length + text.length);
  }

  var actions = {
    heading: function () { linePrefix("## "); },
    bold: function () { wrap("**", "**", msg.placeholderText); },
    italic: function () { wrap("_", "_", msg.placeholderText); },
    ul: function () { linePrefix("- "); },
    ol: function () { linePrefix("", true); },
    link: function () {
      var s = selected() || msg.placeholderLink;
      var t = "[" + s + "](https://)";
      replace(t, s.length + 3, t.length - 1);
    },
    wikilink: function () { wrap("[[", "]]", msg.placeholderWiki); },
    table: function () { block("| " + msg.tableHead + " | " + msg.tableHead + " |\n| --- | --- |\n|  |  |"); },
    quote: function () { linePrefix("> "); },
    file: function () { fileInput.click(); }
  };

  // The toolbar is one tab stop; arrow keys move between its buttons
  // (WAI-ARIA toolbar pattern).
  var buttons = Array.prototype.slice.call(bar.querySelectorAll("button"));
  buttons.forEach(function (b, i) {
    b.tabIndex = i === 0 ? 0 : -1;
    b.addEventListener("click", function () { actions[b.dataset.action](); });
  });
  bar.addEventListener("keydown", function (e) {
    var i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    var next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    next = (next + buttons.length) % buttons.length;
    buttons[i].tabIndex = -1;
    buttons[next].tabIndex = 0;
    buttons[next].focus();
  });

  var shortcuts = { b: "bold", i: "italic", k: "link" };
  body.addEventListener("keydown", function (e) {
    if (list && !list.hidden && listKey(e)) return;
    if (!(e.ctrlKey || e.metaKey)) return;
    var key = e.key.toLowerCase();
    var a = null;
    if (e.altKey && key === "2") a = "heading";
    else if (e.shiftKey && key === "k") a = "wikilink";
    else if (!e.altKey && !e.shiftKey) a = shortcuts[key];
    if (!a) return;
    e.preventDefault();
    actions[a]();
  });

  // Upload.
  function say(text, error) {
    status.textContent = text;
    status.classList.toggle("form-error", !!error);
  }

  function upload(file) {
    var data = new FormData();
    data.append("city", form.dataset.city);
    data.append("file", file, file.name || "bild.png");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    progress.hidden = false;
    progress.value = 0;
    say(msg.uploading.replace("%s", file.name || ""));
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) progress.value = Math.round(100 * e.loaded / e.total);
    };
    xhr.onload = function () {
      progress.hidden = true;
      if (xhr.status !== 201) {
        var m = { 413: msg.tooLarge, 415: msg.badType, 401: msg.signedOut }[xhr.status] || msg.failed;
        say(m, true);
        return;
      }
      var a = JSON.parse(xhr.responseText);
      var ref;
      if (/^image\//.test(a.content_type)) {
        var alt = window.prompt(msg.altPrompt, "");
        ref = "![" + (alt || "").replace(/[\[\]]/g, "") + "](" + a.url + ")";
      } else {
        ref = "[" + a.name + "](" + a.url + ")";
      }
      replace(ref);
      say(msg.uploaded.replace("%s", a.name));
    };
    xhr.onerror = function () { progress.hidden = true; say(msg.failed, true); };
    xhr.send(data);
  }

  function uploadAll(files) {
    for (var i = 0; i < files.length; i++) upload(files[i]);
  }
  fileInput.addEventListener("change", function () {
    uploadAll(fileInput.files);
    fileInput.value = "";
  });
  body.addEventListener("dragover", function (e) {
    if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0) {
      e.preventDefault();
      body.classList.add("drop-target");
    }
  });
  body.addEventListener("dragleave", function () { body.classList.remove("drop-target"); });
  body.addEventListener("drop", function (e) {
    body.classList.remove("drop-target");
    if (e.dataTransfer && e.dataTransfer.files.length) {
      e.preventDefault();
      uploadAll(e.dataTransfer.files);
    }
  });
  body.addEventListener("paste", function (e) {
    var files = e.clipboardData && e.clipboardData.files;
    if (files && files.length) {
      e.preventDefault();
      uploadAll(files);
    }
  });

  // Wiki-link completion: after "[[" and two characters, titles of the
  // articles this author may read are offered (the suggest API applies the
  // visibility rule). Arrow down enters the list, Enter takes a title,
  // Escape closes it.
  var list = form.querySelector("#wikilink-list");
  var seq = 0, timer = null, active = -1;
  function openQuery() {
    var before = body.value.slice(0, body.selectionStart);
    var m = /\[\[([^\[\]|\n]{2,60})$/.exec(before);
    return m ? m[1] : null;
  }
  function closeList() {
    list.hidden = true;
    list.textContent = "";
    active = -1;
    body.removeAttribute("aria-activedescendant");
  }
  function choose(li) {
    var q = openQuery();
    if (q === null) { closeList(); return; }
    body.setSelectionRange(body.selectionStart - q.length, body.selectionStart);
    replace(li.dataset.target + "]]");
    closeList();
  }
  function mark(i) {
    var items = list.querySelectorAll("li");
    if (!items.length) return;
    active = (i + items.length) % items.length;
    items.forEach(function (li, j) { li.setAttribute("aria-selected", j === active ? "true" : "false"); });
    body.setAttribute("aria-activedescendant", items[active].id);
  }
  function listKey(e) {
    if (e.key === "ArrowDown") { e.preventDefault(); mark(active + 1); return true; }
    if (e.key === "ArrowUp") { e.preventDefault(); mark(active - 1); return true; }
    if (e.key === "Escape") { e.preventDefault(); closeList(); return true; }
    if ((e.key === "Enter" || e.key === "Tab") && active >= 0) {
      e.preventDefault();
      choose(list.querySelectorAll("li")[active]);
      return true;
    }
    return false;
  }
  list.addEventListener("mousedown", function (e) {
    var li = e.target.closest("li");
    if (li) { e.preventDefault(); choose(li); }
  });
  body.addEventListener("input", function () {
    clearTimeout(timer);
    var q = openQuery();
    if (q === null) { closeList(); return; }
    timer = setTimeout(function () {
      var mine = ++seq;
      fetch(form.dataset.suggestUrl + "?q=" + encodeURIComponent(q.trim()), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          if (mine !== seq) return;
          list.textContent = "";
          items.forEach(function (it, i) {
            var li = document.createElement("li");
            li.id = "wikilink-option-" + i;
            li.setAttribute("role", "option");
            li.dataset.target = (it.city === form.dataset.city ? "" : it.city + "/") + it.slug;
            li.textContent = it.title + " (" + it.city + "/" + it.slug + ")";
            list.appendChild(li);
          });
          list.hidden = items.length === 0;
          active = -1;
          if (items.length) say(msg.suggestions.replace("%d", items.length));
        }).catch(function () {});
    }, 200);
  });
  body.addEventListener("blur", function () { setTimeout(closeList, 200); });
})();
