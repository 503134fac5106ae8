/*
  truancy-sync: the director's page (admin/truancy_sync/outcomes.html). Reads the published
  figures from U_TRUANCY_FIGURES with the signed-in user's session and lays them out per school
  and for the district, by grade and month, tiers, interventions and the § 48273 counts. Each
  row of the table is one figure (section, subject, detail, measure, figure_value); an empty
  value is a cell the report withheld, shown as "fewer than 10". Every figure cell carries
  data-figure="section|subject|detail|measure" so what is shown can be checked against the report.
*/
(function () {
  "use strict";
  var ts = window.truancySync;
  var box = document.getElementById("truancy-outcomes");
  if (!ts || !box) { return; }
  var el = ts.element;
  var status = box.querySelector(".truancy-outcomes-status");
  var sections = box.querySelector(".truancy-outcomes-sections");
  var yearSelect = box.querySelector("select[name=school_year]");
  var WITHHELD = "fewer than 10";
  var PERCENT = {truancy_rate: true, chronic_absence_rate: true, before: true, after: true};
  var POINTS = {change: true, ci_low: true, ci_high: true, effect: true};
  var GROUP = [["students", "Students"], ["chronically_absent", "Chronically absent"],
               ["chronic_absence_rate", "Chronic absence rate"], ["truant", "Truant"],
               ["truancy_rate", "Truancy rate"], ["habitual_truant", "Habitual truants"],
               ["chronic_truant", "Chronic truants"]];
  var MONTH = GROUP.slice(0, 5);
  var INTERVENTION = [["students", "Students measured"], ["not_yet_measurable", "Not yet measurable"],
                      ["before", "Attendance before"], ["after", "Attendance after"], ["change", "Change"],
                      ["ci_low", "95% CI from"], ["ci_high", "95% CI to"]];
  var HOLDOUT = [["nudged", "Nudged"], ["held_out", "Held out"], ["effect", "Effect"],
                 ["ci_low", "95% CI from"], ["ci_high", "95% CI to"]];
  var KINDS = {letter: "Letter sent", notice: "Notification recorded", conference: "Conference held",
               plan: "Attendance plan", referral: "Referral made", outreach: "Family outreach", review: "Review"};
  var byYear = {};

  function schoolNames() {
    var names = {};
    document.querySelectorAll("#truancy-outcomes-schools li").forEach(function (item) {
      names[item.getAttribute("data-number")] = item.getAttribute("data-name");
    });
    return names;
  }

  /* A figure as the page shows it: counts with separators, rates as percentages, changes in
     percentage points; a withheld cell says so. */
  function shown(measure, raw) {
    if (raw === undefined || raw === null || raw === "") { return WITHHELD; }
    var value = Number(raw);
    if (PERCENT[measure]) { return (value * 100).toFixed(1) + "%"; }
    if (POINTS[measure]) {
      var text = (value * 100).toFixed(1);
      return (value >= 0 && text.charAt(0) !== "-" ? "+" : "") + text + " pts";
    }
    return value.toLocaleString("en-US");
  }

  function index(rows) {
    var found = {};
    rows.forEach(function (row) {
      found[[row.section, row.subject || "", row.detail || "", row.measure].join("|")] = row.figure_value || "";
    });
    return found;
  }

  function figureCell(figures, key, measure, label) {
    var cell = el("td", shown(measure, figures[key]), "truancy-outcomes-figure");
    if (figures[key] === "" || figures[key] === undefined) { cell.classList.add("truancy-outcomes-withheld"); }
    cell.setAttribute("data-figure", key);
    cell.setAttribute("data-label", label);
    return cell;
  }

  /* One table: a row per subject (and detail), a column per measure. */
  function table(title, id, headers, lines, measures, figures, section) {
    var part = el("section");
    part.setAttribute("data-section", id);
    part.appendChild(el("h2", title));
    if (!lines.length) {
      part.appendChild(el("p", "Nothing published."));
      return part;
    }
    var grid = part.appendChild(el("table", null, "grid truancy-sync-stack"));
    var head = grid.appendChild(el("thead")).appendChild(el("tr"));
    headers.concat(measures.map(function (m) { return m[1]; })).forEach(function (h) { head.appendChild(el("th", h)); });
    var body = grid.appendChild(el("tbody"));
    lines.forEach(function (line) {
      var tr = body.appendChild(el("tr"));
      line.labels.forEach(function (text, i) {
        var cell = tr.appendChild(el("td", text));
        cell.setAttribute("data-label", headers[i]);
      });
      measures.forEach(function (m) {
        var key = [line.section || section, line.subject, line.detail || "", m[0]].join("|");
        tr.appendChild(figureCell(figures, key, m[0], m[1]));
      });
    });
    return part;
  }

  function subjects(rows, section) {
    var seen = {}, list = [];
    rows.forEach(function (row) {
      var key = (row.subject || "") + "|" + (row.detail || "");
      if (row.section === section && !seen[key]) {
        seen[key] = true;
        list.push({subject: row.subject || "", detail: row.detail || ""});
      }
    });
    return list;
  }

  function render() {
    var rows = byYear[yearSelect.value] || [];
    var figures = index(rows);
    var names = schoolNames();
    sections.replaceChildren();
    var schools = subjects(rows, "school").sort(function (a, b) {
      return String(names[a.subject] || a.subject).localeCompare(String(names[b.subject] || b.subject));
    });
    var district = [{section: "district", subject: "", labels: ["District (all schools)"]}];
    sections.appendChild(table("District and schools", "schools", ["School"], district.concat(schools.map(function (s) {
      return {subject: s.subject, labels: [names[s.subject] || "School " + s.subject]};
    })), GROUP, figures, "school"));
    sections.appendChild(table("By grade", "grade", ["Grade"], subjects(rows, "grade").map(function (g) {
      return {subject: g.subject, labels: [g.subject]};
    }), GROUP, figures, "grade"));
    sections.appendChild(table("By month (as of each month's end)", "month", ["Month"],
      subjects(rows, "month").sort(function (a, b) { return a.subject.localeCompare(b.subject); })
        .map(function (m) { return {subject: m.subject, labels: [m.subject]}; }), MONTH, figures, "month"));
    sections.appendChild(table("Cases by tier at each month's end", "tier", ["Month", "Tier"],
      subjects(rows, "tier").sort(function (a, b) {
        return a.subject.localeCompare(b.subject) || a.detail.localeCompare(b.detail);
      }).map(function (t) { return {subject: t.subject, detail: t.detail, labels: [t.subject, t.detail]}; }),
      [["cases", "Cases"]], figures, "tier"));
    sections.appendChild(table("Attendance before and after each intervention", "intervention",
      ["Intervention", "Family language"], subjects(rows, "intervention").map(function (i) {
        var language = i.detail === "all" ? "All languages" : i.detail;
        return {subject: i.subject, detail: i.detail, labels: [KINDS[i.subject] || i.subject, language]};
      }), INTERVENTION, figures, "intervention"));
    sections.appendChild(table("SARB referrals (Cal. Educ. Code § 48273)", "sarb", ["Referral"],
      subjects(rows, "sarb").map(function (r) { return {subject: r.subject, labels: [r.subject]}; }),
      [["made", "Made"], ["declined", "Declined"]], figures, "sarb"));
    sections.appendChild(table("Petitions requested (Cal. Educ. Code §§ 48263, 48273)", "petition", ["Petition to"],
      subjects(rows, "petition").map(function (p) { return {subject: p.subject, labels: [p.subject]}; }),
      [["requested", "Requested"]], figures, "petition"));
    var held = subjects(rows, "holdout");
    if (held.length) {
      sections.appendChild(table("Hold-out groups (non-mandated nudges)", "holdout", ["Task", "Designation"],
        held.map(function (h) { return {subject: h.subject, detail: h.detail, labels: [h.subject, h.detail]}; }),
        HOLDOUT, figures, "holdout"));
    }
    var asOf = rows.length ? rows[0].as_of : "";
    status.textContent = "School year " + yearSelect.value + ", as of " + asOf + " · cells of fewer than 10 " +
      "students are withheld so no student can be identified.";
  }

  ts.rows("u_truancy_figures").then(function (rows) {
    rows.forEach(function (row) { (byYear[row.school_year] || (byYear[row.school_year] = [])).push(row); });
    var years = Object.keys(byYear).sort().reverse();
    if (!years.length) {
      status.textContent = "No figures have been published to PowerSchool yet (truancy report outcomes --to-sis).";
      return;
    }
    years.forEach(function (year) { yearSelect.appendChild(ts.option(year, year)); });
    yearSelect.addEventListener("change", render);
    render();
  }).catch(function (error) { status.textContent = "The figures could not be loaded (" + error.message + ")."; });
}());
