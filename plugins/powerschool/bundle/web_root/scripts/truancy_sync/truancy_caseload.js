/*
  truancy-sync: the officer's caseload on the start page (home.truancy_caseload.content.header.txt).
  Reads the active flags and open tasks with the officer's own session, keeps the cases of the
  chosen caseload (the signed-in officer's by default, or all of them for a director), and lists
  their open tasks by section, earliest statutory deadline first.
*/
(function () {
  "use strict";
  var ts = window.truancySync;
  var box = document.getElementById("truancy-caseload");
  if (!ts || !box) { return; }
  box.hidden = false;
  var el = ts.element;
  var me = document.getElementById("truancy-caseload-me");
  var login = ((me && me.getAttribute("data-login")) || "").trim();
  var filters = box.querySelector(".truancy-caseload-filters");
  var counts = box.querySelector(".truancy-caseload-counts");
  var sectionsBox = box.querySelector(".truancy-caseload-sections");
  var today = ts.today();
  var weekEnd = ts.addDays(today, 6);
  var ALL = "*";
  var HEADERS = ["Student", "School", "Designation", "Tier", "Task", "Due"];
  /* Each section: its id, heading and which open tasks it lists. Conferences and reviews show
     everything due by the end of the week, overdue ones included (marked). */
  var SECTIONS = [
    {id: "overdue", title: "Overdue", test: function (t) { return t.due_date < today; }},
    {id: "today", title: "Due today", test: function (t) { return t.due_date === today; }},
    {id: "week", title: "Due this week", test: function (t) { return t.due_date > today && t.due_date <= weekEnd; }},
    {id: "conferences", title: "Conferences due this week",
     test: function (t) { return t.task_kind === "conference" && t.due_date <= weekEnd; }},
    {id: "reviews", title: "Reviews due this week (plans, SARB determinations, compliance)",
     test: function (t) { return t.task_kind === "review" && t.due_date <= weekEnd; }}
  ];
  var cases = [];

  function students() {
    var found = {};
    document.querySelectorAll("#truancy-caseload-students li").forEach(function (item) {
      found[item.getAttribute("data-dcid")] = {
        name: item.getAttribute("data-name"), number: item.getAttribute("data-number"),
        school: item.getAttribute("data-school")
      };
    });
    return found;
  }

  /* One case per student with an active flag: who, designations, tier, officer, open tasks. */
  function group(flags, tasks, who) {
    var byStudent = {};
    flags.forEach(function (flag) {
      var dcid = flag.studentsdcid || "";
      if (!/^[0-9]+$/.test(dcid)) { return; }
      var entry = byStudent[dcid] || (byStudent[dcid] = {
        dcid: dcid, labels: [], tier: "", officer: "", tasks: [],
        student: who[dcid] || {name: "Student " + dcid, number: "", school: ""}
      });
      if (entry.labels.indexOf(flag.label) < 0) { entry.labels.push(flag.label); }
      entry.tier = entry.tier || flag.tier || "";
      entry.officer = entry.officer || flag.officer || "";
    });
    tasks.forEach(function (task) {
      var entry = byStudent[task.studentsdcid];
      if (entry && task.due_date) { entry.tasks.push(task); }
    });
    return Object.keys(byStudent).map(function (key) { return byStudent[key]; });
  }

  function fillSelect(select, values) {
    values.sort().forEach(function (value) { select.appendChild(ts.option(value, value)); });
  }

  function distinct(pick) {
    var seen = {};
    cases.forEach(function (entry) { [].concat(pick(entry)).forEach(function (v) { if (v) { seen[v] = true; } }); });
    return Object.keys(seen);
  }

  function chosen(ignoreSchool) {
    var f = filters.elements;
    return cases.filter(function (entry) {
      return (f.caseload_officer.value === ALL || entry.officer === f.caseload_officer.value) &&
        (ignoreSchool || !f.caseload_school.value || entry.student.school === f.caseload_school.value) &&
        (!f.caseload_tier.value || entry.tier === f.caseload_tier.value) &&
        (!f.caseload_designation.value || entry.labels.indexOf(f.caseload_designation.value) >= 0);
    });
  }

  function taskLine(entry, task) {
    var line = el("tr", null, "truancy-caseload-task" + (task.due_date < today ? " truancy-sync-is-overdue" : ""));
    line.setAttribute("data-dcid", entry.dcid);
    var link = el("a", entry.student.name);
    link.href = "/admin/students/home.html?frn=001" + entry.dcid;
    var due = el("td", task.due_date);
    if (task.due_date < today) { due.appendChild(el("span", "Overdue", "truancy-sync-marker truancy-sync-overdue")); }
    var cells = [el("td"), el("td", entry.student.school), el("td", entry.labels.join("; ")), el("td", entry.tier),
                 el("td", task.title), due];
    cells[0].appendChild(link);
    cells.forEach(function (cell, i) { cell.setAttribute("data-label", HEADERS[i]); line.appendChild(cell); });
    return line;
  }

  function section(spec, shown) {
    var found = [];
    shown.forEach(function (entry) {
      entry.tasks.forEach(function (task) { if (spec.test(task)) { found.push({entry: entry, task: task}); } });
    });
    found.sort(function (a, b) {
      return a.task.due_date.localeCompare(b.task.due_date) || a.entry.student.name.localeCompare(b.entry.student.name);
    });
    var part = el("section", null, "truancy-caseload-section");
    part.setAttribute("data-section", spec.id);
    part.setAttribute("data-count", String(found.length));
    part.appendChild(el("h3", spec.title + " (" + found.length + ")"));
    if (!found.length) {
      part.appendChild(el("p", "Nothing.", "truancy-caseload-none"));
      return part;
    }
    var table = part.appendChild(el("table", null, "grid truancy-sync-stack"));
    var head = table.appendChild(el("thead")).appendChild(el("tr"));
    HEADERS.forEach(function (h) { head.appendChild(el("th", h)); });
    var body = table.appendChild(el("tbody"));
    found.forEach(function (item) { body.appendChild(taskLine(item.entry, item.task)); });
    return part;
  }

  function bySchool(shown) {
    var rows = {};
    shown.forEach(function (entry) {
      var school = entry.student.school || "(school not shown)";
      var row = rows[school] || (rows[school] = {cases: 0, overdue: 0, week: 0, unassigned: 0});
      row.cases += 1;
      row.unassigned += entry.officer ? 0 : 1;
      entry.tasks.forEach(function (t) {
        row.overdue += t.due_date < today ? 1 : 0;
        row.week += t.due_date >= today && t.due_date <= weekEnd ? 1 : 0;
      });
    });
    var body = box.querySelector(".truancy-caseload-schools tbody");
    body.replaceChildren();
    Object.keys(rows).sort().forEach(function (school) {
      var r = rows[school];
      var line = body.appendChild(el("tr", null, "truancy-caseload-school"));
      [school, r.cases, r.overdue, r.week, r.unassigned].forEach(function (value, i) {
        var cell = line.appendChild(el("td", value));
        cell.setAttribute("data-label", ["School", "Open cases", "Overdue tasks", "Due this week", "No officer"][i]);
      });
    });
  }

  function render() {
    var shown = chosen(false);
    var who = filters.elements.caseload_officer.value;
    box.querySelector(".truancy-caseload-title").textContent =
      who === ALL ? "All caseloads" : who === login ? "My caseload" : "Caseload of " + who;
    sectionsBox.replaceChildren();
    var tally = {};
    SECTIONS.forEach(function (spec) {
      var part = section(spec, shown);
      tally[spec.id] = Number(part.getAttribute("data-count"));
      sectionsBox.appendChild(part);
    });
    counts.textContent = shown.length + " open case(s) · " + tally.overdue + " overdue · " + tally.today +
      " due today · " + tally.week + " due this week";
    bySchool(chosen(true));
  }

  Promise.all([ts.rows("u_truancy_flags", "status==active"), ts.rows("u_truancy_tasks", "status==open")])
    .then(function (found) {
      cases = group(found[0], found[1], students());
      var officers = distinct(function (e) { return e.officer; });
      var select = filters.elements.caseload_officer;
      var mine = login && officers.indexOf(login) >= 0;
      if (login) { select.appendChild(ts.option(login, "My caseload (" + login + ")")); }
      select.appendChild(ts.option(ALL, "All caseloads"));
      fillSelect(select, officers.filter(function (o) { return o !== login; }));
      select.value = mine ? login : ALL;
      fillSelect(filters.elements.caseload_school, distinct(function (e) { return e.student.school; }));
      fillSelect(filters.elements.caseload_tier, distinct(function (e) { return e.tier; }));
      fillSelect(filters.elements.caseload_designation, distinct(function (e) { return e.labels; }));
      filters.addEventListener("change", render);
      render();
    })
    .catch(function (error) { counts.textContent = "The caseload could not be loaded (" + error.message + ")."; });
}());
