/*
  truancy-sync: helpers shared by the plugin's page fragments. They call PowerSchool's
  /ws/schema/table API with the officer's own browser session (same-origin cookies), so
  PowerSchool's role permissions decide who sees and changes a case. Values are only ever put on
  the page with textContent or as form values, never parsed as HTML: notes hold free text.
*/
(function () {
  "use strict";
  var BASE = "/ws/schema/table/";
  var PAGE_SIZE = 100;

  function request(method, url, body) {
    var init = {method: method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.status === 204 ? null : response.json();
    });
  }

  /* Every row of a table matching q ("column==value;..."), following the pages. */
  function rows(table, q) {
    var found = [];
    function page(number) {
      var url = BASE + table + "?projection=*&pagesize=" + PAGE_SIZE + "&page=" + number +
        (q ? "&q=" + encodeURIComponent(q) : "");
      return request("GET", url).then(function (payload) {
        var records = (payload && payload.record) || [];
        records.forEach(function (record) {
          var row = (record.tables && record.tables[table]) || {};
          row.id = String(record.id);
          found.push(row);
        });
        return records.length === PAGE_SIZE ? page(number + 1) : found;
      });
    }
    return page(1);
  }

  function body(table, columns) {
    var wrapped = {tables: {}};
    wrapped.tables[table] = columns;
    return wrapped;
  }

  function update(table, id, columns) {
    return request("PUT", BASE + table + "/" + encodeURIComponent(id), body(table, columns));
  }

  function insert(table, columns) {
    return request("POST", BASE + table, body(table, columns));
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function option(value, label) {
    var node = element("option", label);
    node.value = value;
    return node;
  }

  function iso(day) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return day.getFullYear() + "-" + two(day.getMonth() + 1) + "-" + two(day.getDate());
  }

  /* Today in the officer's own time zone, YYYY-MM-DD. */
  function today() { return iso(new Date()); }

  /* The ISO date ``days`` after ``day`` (YYYY-MM-DD), for "due this week". */
  function addDays(day, days) {
    var parts = String(day).split("-").map(Number);
    return iso(new Date(parts[0], parts[1] - 1, parts[2] + days));
  }

  /* Why ``value`` cannot be the date an action happened, or "" when it can: a real calendar
     date, not after today. */
  function actionDateProblem(value) {
    if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value || "")) { return "Enter the date it happened (YYYY-MM-DD)."; }
    var parts = value.split("-").map(Number);
    var day = new Date(parts[0], parts[1] - 1, parts[2]);
    if (iso(day) !== value) { return value + " is not a date on the calendar."; }
    if (value > today()) { return "The date cannot be in the future: enter the day it happened."; }
    return "";
  }

  /* A required date field for when an action happened: today by default, never after today. */
  function actionDate(name, label) {
    var input = element("input");
    input.type = "date";
    input.name = name;
    input.required = true;
    input.value = today();
    input.max = today();
    input.setAttribute("aria-label", label);
    return input;
  }

  /* The outcomes a task offers, from the row the daemon wrote ([{code, label, closes}]); a row
     written before outcomes existed offers "Done" only. */
  function outcomeOptions(task) {
    try {
      var parsed = JSON.parse(task.outcome_options || "[]");
      if (Array.isArray(parsed) && parsed.length) {
        return parsed.filter(function (o) { return o && typeof o.code === "string"; });
      }
    } catch (ignored) { /* an unreadable list falls back below */ }
    return [{code: "done", label: "Done", closes: true}];
  }

  /* A saved outcome as the officer reads it: its label, or the code in words for an older one. */
  function outcomeLabel(task) {
    var code = task.outcome || "";
    var found = outcomeOptions(task).filter(function (o) { return o.code === code; })[0];
    if (found) { return found.label; }
    var words = code.replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  /* The signed-in PowerSchool user ("Last, First") the page was rendered for. */
  function signedInUser(node) {
    return ((node && node.getAttribute("data-user")) || "").trim();
  }

  /* The student key PowerSchool substituted into the fragment, or null when it is not a number. */
  function studentsDcid(node) {
    var value = (node && node.getAttribute("data-studentsdcid")) || "";
    return /^[0-9]+$/.test(value) ? value : null;
  }

  /* The earliest open task by due date (ISO dates compare as text). */
  function nextDue(tasks) {
    return tasks.filter(function (task) { return task.status === "open"; })
      .sort(function (a, b) { return String(a.due_date || "").localeCompare(String(b.due_date || "")); })[0] || null;
  }

  window.truancySync = {
    rows: rows, update: update, insert: insert, element: element, option: option, today: today,
    addDays: addDays, actionDate: actionDate, actionDateProblem: actionDateProblem,
    outcomeOptions: outcomeOptions, outcomeLabel: outcomeLabel, signedInUser: signedInUser,
    studentsDcid: studentsDcid, nextDue: nextDue
  };
}());
