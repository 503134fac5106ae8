/*
  truancy-sync: the officer's caseload on the start page (home.truancy_caseload.content.header.txt).
  Reads the active flags, open tasks, scheduled conferences, plans and packet requests with the
  officer's own session, keeps the cases of the chosen caseload (the signed-in officer's by
  default, or all of them for a director), and lists what is due by section, earliest first.
  Each item is {title, due_date, kind, source}: a task (due_date = its statutory deadline), a
  scheduled conference (its day), a plan (its review date) or a packet request (the day asked).
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
  function isTask(t) { return t.source === "task"; }
  var SECTIONS = [
    {id: "overdue", title: "Overdue", test: function (t) { return isTask(t) && t.due_date < today; }},
    {id: "today", title: "Due today", test: function (t) { return isTask(t) && t.due_date === today; }},
    {id: "week", title: "Due this week",
     test: function (t) { return isTask(t) && t.due_date > today && t.due_date <= weekEnd; }},
    {id: "approvals", title: "Letters awaiting my approval",
     test: function (t) { return isTask(t) && t.kind === "approval"; }},
    {id: "conferences", title: "Conferences this week (scheduled, or due)",
     test: function (t) {
       return (t.source === "conference" && t.due_date >= today && t.due_date <= weekEnd) ||
         (isTask(t) && t.kind === "conference" && t.due_date <= weekEnd);
     }},
    {id: "plans", title: "Plans due for review",
     test: function (t) { return t.source === "plan" && t.due_date <= weekEnd; }},
    {id: "reviews", title: "Reviews due this week (SARB determinations, compliance)",
     test: function (t) { return isTask(t) && t.kind === "review" && t.due_date <= weekEnd; }},
    {id: "packets", title: "Packets requested", test: function (t) { return t.source === "packet"; }}
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

  /* What each casework row asks of the officer, as an item; rows without a date are skipped. */
  function items(found) {
    var list = found.tasks.map(function (t) {
      return {studentsdcid: t.studentsdcid, title: t.title, due_date: t.due_date, kind: t.task_kind || "", source: "task"};
    });
    found.conferences.forEach(function (c) {
      if (c.outcome || !c.starts_at) { return; }
      list.push({studentsdcid: c.studentsdcid, due_date: c.starts_at.slice(0, 10), kind: "conference", source: "conference",
                 title: "Conference " + c.starts_at.replace("T", " ") + (c.place ? " · " + c.place : "")});
    });
    found.plans.forEach(function (p) {
      if (!p.review_date || (p.end_date && p.end_date < today)) { return; }
      list.push({studentsdcid: p.studentsdcid, due_date: p.review_date, kind: "plan", source: "plan",
                 title: "Review the plan" + (p.form ? " (" + p.form + ")" : "")});
    });
    found.packets.forEach(function (k) {
      if (k.status !== "requested") { return; }
      list.push({studentsdcid: k.studentsdcid, due_date: k.requested_date || today, kind: "packet", source: "packet",
                 title: "Packet requested: " + (k.kind || "").toUpperCase()});
    });
    return list;
  }

  /* One case per student with an active flag: who, designations, tier, officer, open items. */
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
    tasks.forEach(function (item) {
      var entry = byStudent[item.studentsdcid];
      if (entry && item.due_date) { entry.tasks.push(item); }
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
    if (task.due_date < today && task.source !== "packet") {
      due.appendChild(el("span", "Overdue", "truancy-sync-marker truancy-sync-overdue"));
    }
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
      entry.tasks.filter(isTask).forEach(function (t) {
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

  /* A casework table the installed bundle may not have yet reads as empty. */
  function optional(table, q) { return ts.rows(table, q).catch(function () { return []; }); }

  Promise.all([ts.rows("u_truancy_flags", "status==active"), ts.rows("u_truancy_tasks", "status==open"),
               optional("u_truancy_conferences"), optional("u_truancy_plans"),
               optional("u_truancy_packets", "status==requested")])
    .then(function (found) {
      var work = items({tasks: found[1], conferences: found[2], plans: found[3], packets: found[4]});
      cases = group(found[0], work, students());
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
