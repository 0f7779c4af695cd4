// The ranked ballot's accessible ranking control. The form posts the same numbered fields
// with or without this script: it hides the number fields and shows the candidates as two
// lists, "your ranking" and "not ranked", with buttons to add, remove and move candidates.
// Every change is announced in a live region and written back into the number fields.
// Its words come from the page (#booth-text, in the page's language), English otherwise.
"use strict";
(function () {
  var words = {};
  function t(text, values) {
    var out = words[text] || text;
    Object.keys(values || {}).forEach(function (k) { out = out.split("{" + k + "}").join(values[k]); });
    return out;
  }
  function enhance(fieldset) {
    // the instructions describe these controls, not the numbers they replace
    fieldset.querySelectorAll(".how-numbered").forEach(function (el) { el.hidden = true; });
    fieldset.querySelectorAll(".how-js").forEach(function (el) { el.hidden = false; });
    var rows = Array.prototype.slice.call(fieldset.querySelectorAll(".rank-row"));
    var numbers = fieldset.querySelector(".ranking-numbers");
    var title = fieldset.querySelector(".contest-title").textContent;
    var candidates = rows.map(function (row) {
      return {
        name: row.querySelector(".candidate-name").textContent,
        select: row.querySelector("select")
      };
    });
    var ranked = candidates
      .filter(function (c) { return c.select.value !== ""; })
      .sort(function (a, b) { return Number(a.select.value) - Number(b.select.value); });

    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    var wrap = document.createElement("div");
    wrap.className = "ranker";
    var rankedHeading = document.createElement("h3");
    rankedHeading.textContent = t("Your ranking");
    var rankedList = document.createElement("ol");
    rankedList.className = "ranked";
    rankedList.setAttribute("aria-label", t("Your ranking for {title}", {title: title}));
    var restHeading = document.createElement("h3");
    restHeading.textContent = t("Not ranked");
    var restList = document.createElement("ul");
    restList.className = "unranked";
    restList.setAttribute("aria-label", t("Candidates not ranked for {title}", {title: title}));
    wrap.append(rankedHeading, rankedList, restHeading, restList, live);
    numbers.hidden = true;
    numbers.after(wrap);

    function button(label, text, action) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "small";
      b.textContent = text;
      b.setAttribute("aria-label", label);
      b.addEventListener("click", action);
      return b;
    }
    function sync(message, focusName, focusText) {
      candidates.forEach(function (c) {
        var at = ranked.indexOf(c);
        c.select.value = at < 0 ? "" : String(at + 1);
      });
      draw();
      if (message) { live.textContent = message; }
      if (focusName) {
        var target = wrap.querySelector('[data-name="' + CSS.escape(focusName) + '"] button[data-act="' + focusText + '"]')
          || wrap.querySelector('[data-name="' + CSS.escape(focusName) + '"] button');
        if (target) { target.focus(); }
      }
    }
    function draw() {
      rankedList.textContent = "";
      restList.textContent = "";
      ranked.forEach(function (c, i) {
        var li = document.createElement("li");
        li.setAttribute("data-name", c.name);
        var label = document.createElement("span");
        label.className = "candidate-name";
        label.textContent = c.name;
        li.append(label);
        var up = button(t("Move {name} up", {name: c.name}), t("Up"), function () {
          ranked.splice(i, 1); ranked.splice(i - 1, 0, c);
          sync(t("{name} moved to preference {n}", {name: c.name, n: i}), c.name, "up");
        });
        up.setAttribute("data-act", "up");
        up.disabled = i === 0;
        var down = button(t("Move {name} down", {name: c.name}), t("Down"), function () {
          ranked.splice(i, 1); ranked.splice(i + 1, 0, c);
          sync(t("{name} moved to preference {n}", {name: c.name, n: i + 2}), c.name, "down");
        });
        down.setAttribute("data-act", "down");
        down.disabled = i === ranked.length - 1;
        var remove = button(t("Remove {name} from your ranking", {name: c.name}), t("Remove"), function () {
          ranked.splice(i, 1);
          sync(t("{name} removed from your ranking", {name: c.name}), c.name, "add");
        });
        remove.setAttribute("data-act", "remove");
        var tools = document.createElement("span");
        tools.className = "tools";
        tools.append(up, down, remove);
        li.append(tools);
        rankedList.append(li);
      });
      candidates.filter(function (c) { return ranked.indexOf(c) < 0; }).forEach(function (c) {
        var li = document.createElement("li");
        li.setAttribute("data-name", c.name);
        var label = document.createElement("span");
        label.className = "candidate-name";
        label.textContent = c.name;
        var add = button(t("Add {name} as preference {n}", {name: c.name, n: ranked.length + 1}), t("Add"), function () {
          ranked.push(c);
          sync(t("{name} added as preference {n}", {name: c.name, n: ranked.length}), c.name, "remove");
        });
        add.setAttribute("data-act", "add");
        li.append(label, add);
        restList.append(li);
      });
      if (!ranked.length) {
        var empty = document.createElement("li");
        empty.className = "empty";
        empty.textContent = t("No candidates ranked yet: use Add.");
        rankedList.append(empty);
      }
    }
    draw();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var given = document.getElementById("booth-text");
    if (given) { words = JSON.parse(given.textContent); }
    document.querySelectorAll('fieldset.contest[data-kind="ranked"]').forEach(enhance);
  });
})();
