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

  function today() {
    var now = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" + two(now.getDate());
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
    studentsDcid: studentsDcid, nextDue: nextDue
  };
}());
