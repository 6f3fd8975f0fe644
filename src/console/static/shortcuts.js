/* kyoso staff console: single-key shortcuts, an optional layer over pages that work
   without it. Loaded only for users who keep the shortcuts on (account page); they act
   only when focus is not in a text field and no modifier key is held, so typing,
   screen-reader keys (which use modifiers or their own browse mode) and browser keys
   pass through untouched (WCAG 2.1.4).
     /   focus the inbox search (the inbox's keyword box; elsewhere, go to the inbox)
     j k focus the next / previous row's link in the page's lists
     ?   open the list of shortcuts (a modal <dialog>; Esc or the button closes it) */
(function () {
  "use strict";

  function typing(el) {
    if (!el) { return false; }
    if (el.isContentEditable) { return true; }
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
    if (tag !== "INPUT") { return false; }
    var type = (el.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset", "file", "image", "range", "color"].indexOf(type) < 0;
  }

  /* The first link of each body row of every table in main: one stop per row. */
  function rowLinks() {
    var rows = document.querySelectorAll("main table tbody tr");
    var links = [];
    for (var i = 0; i < rows.length; i++) {
      var a = rows[i].querySelector("a[href]");
      if (a) { links.push(a); }
    }
    return links;
  }

  function move(step) {
    var links = rowLinks();
    if (links.length === 0) { return false; }
    var at = links.indexOf(document.activeElement);
    var next;
    if (at < 0) {
      next = step > 0 ? 0 : links.length - 1;
    } else {
      next = Math.min(links.length - 1, Math.max(0, at + step));
    }
    var row = links[next].closest("tr");
    var old = document.querySelector("tr.kb-current");
    if (old) { old.classList.remove("kb-current"); }
    if (row) { row.classList.add("kb-current"); }
    links[next].focus();
    return true;
  }

  function search() {
    var box = document.getElementById("q");
    if (box) {
      box.focus();
      box.select();
      return true;
    }
    window.location.href = "/admin/inbox#q";
    return true;
  }

  function help() {
    var d = document.getElementById("keys-help");
    if (!d || typeof d.showModal !== "function") {
      window.location.href = "/admin/account#shortcuts";
      return true;
    }
    if (!d.open) { d.showModal(); }
    return true;
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) { return; }
    if (typing(document.activeElement)) { return; }
    var d = document.getElementById("keys-help");
    if (d && d.open) { return; }
    var done = false;
    switch (e.key) {
      case "/": done = search(); break;
      case "j": done = move(1); break;
      case "k": done = move(-1); break;
      case "?": done = help(); break;
      default: return;
    }
    if (done) { e.preventDefault(); }
  });

  /* `/` on another page leads here with #q: the search box takes the focus. */
  if (window.location.hash === "#q") {
    var box = document.getElementById("q");
    if (box) { box.focus(); }
  }

  /* The help's close button: a <form method="dialog"> already closes it without script;
     focus returns to where it was by the browser's dialog rules. */
  var link = document.getElementById("keys-help-open");
  if (link) {
    link.addEventListener("click", function (e) {
      var d = document.getElementById("keys-help");
      if (d && typeof d.showModal === "function") {
        e.preventDefault();
        d.showModal();
      }
    });
  }
}());
