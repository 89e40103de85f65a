//! `eegrun report`: the page is well-formed and self-contained, has the sections each kind
//! of study calls for (golden outline on the committed fixture runs; a search trained
//! here), escapes what run folders hold, and renders in a real headless browser (Debian's
//! chromium; skipped, saying so, where it is not installed, unless EEGRUN_REQUIRE_BROWSER
//! is set, as CI sets it).

mod common;

use common::Scratch;

use common::{fixtures, golden};
use std::path::{Path, PathBuf};
use std::process::Command;

fn out_dir(name: &str) -> Scratch {
    let dir = Scratch::new(&format!("html-{name}"));
    dir
}

/// Writes the report of `runs` into `dir`/report.html and returns its text.
fn report(runs: &Path, dir: &Path, extra: &[&str]) -> String {
    let page = dir.join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .arg("report")
        .arg(runs)
        .arg("-o")
        .arg(&page)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(page).unwrap()
}

/// Parses the page as XML (its `<!DOCTYPE html>` allowed).
fn parse(html: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(html, options).expect("the page is well-formed XML")
}

/// The page's outline: section ids, figure ids, and how many runs and problems it lists.
fn outline(html: &str) -> String {
    let doc = parse(html);
    let mut lines = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let id = node.attribute("id").unwrap_or_default();
        match node.tag_name().name() {
            "h2" => lines.push(format!("section {id}")),
            "figure" => lines.push(format!("  {id}")),
            _ => {}
        }
    }
    let count = |tag: &str, class: Option<&str>| {
        doc.descendants()
            .filter(|n| n.tag_name().name() == tag && (class.is_none() || n.attribute("class") == class))
            .count()
    };
    let runs = doc
        .descendants()
        .filter(|n| n.has_tag_name("details") && n.attribute("id").is_some_and(|id| id.starts_with("run-")))
        .count();
    lines.push(format!("runs folded: {runs}"));
    lines.push(format!("needing attention: {}", count("li", Some("problem"))));
    lines.join("\n") + "\n"
}

#[test]
fn the_page_is_well_formed_and_loads_nothing() {
    let html = report(&fixtures(), &out_dir("self-contained"), &[]);
    let doc = parse(&html);
    // One script, the one the Content-Security-Policy names by hash; nothing may load.
    let policy = doc
        .descendants()
        .find(|n| n.attribute("http-equiv") == Some("Content-Security-Policy"))
        .and_then(|n| n.attribute("content"))
        .expect("a Content-Security-Policy");
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    let scripts: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("script")).collect();
    assert_eq!(scripts.len(), 1);
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD
        .encode(sha2::Sha256::digest(scripts[0].text().unwrap_or_default().as_bytes()));
    assert!(policy.contains(&format!("script-src 'sha256-{hash}';")), "{policy}");
    assert!(
        policy.contains("form-action 'none'"),
        "forms may post nowhere: {policy}"
    );
    for node in doc.descendants().filter(|n| n.is_element()) {
        let tag = node.tag_name().name();
        assert!(
            !["link", "img", "iframe", "object", "embed"].contains(&tag),
            "<{tag}> in the page"
        );
        assert!(
            !node.attributes().any(|a| a.name().starts_with("on")),
            "an event handler on <{tag}>"
        );
        for attribute in node.attributes() {
            let value = attribute.value();
            // A figure's download link holds the figure itself (a data URL): nothing loads.
            let saves_a_figure = tag == "a"
                && node.has_attribute("download")
                && attribute.name() == "href"
                && value.starts_with("data:image/svg+xml;base64,");
            if ["src", "href"].contains(&attribute.name()) && !saves_a_figure {
                assert!(
                    value.starts_with('#'),
                    "{}=\"{value}\" would load something",
                    attribute.name()
                );
            }
        }
    }
    assert!(
        !html.contains("url(") && !html.contains("@import"),
        "the style loads something"
    );
    // Each fixture run with more than one epoch shows its accuracy curves in its details.
    let with_curves = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "details")
        .filter(|d| d.descendants().filter(|n| n.tag_name().name() == "polyline").count() == 2)
        .count();
    assert_eq!(with_curves, 6, "runs with per-epoch curves");
    let figures: Vec<_> = doc.descendants().filter(|n| n.tag_name().name() == "figure").collect();
    assert!(figures.len() >= 3, "{} figures", figures.len());
    for figure in figures {
        let svg = figure
            .children()
            .find(|n| n.tag_name().name() == "svg")
            .expect("an inline svg");
        let size = |a: &str| svg.attribute(a).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        assert!(
            size("width") > 0.0 && size("height") > 0.0,
            "{:?}",
            figure.attribute("id")
        );
        assert!(
            svg.descendants().count() > 20,
            "{:?} draws almost nothing",
            figure.attribute("id")
        );
    }
}

#[test]
fn activation_and_dropout_studies_have_their_sections() {
    let html = report(&fixtures(), &out_dir("outline"), &[]);
    golden("report_outline.txt", &outline(&html));
    for text in [
        "The study in the lab report",
        "highest test",
        "final test",
        "Provenance",
        "Cargo.lock SHA-256",
    ] {
        assert!(html.contains(text), "missing '{text}'");
    }
    // The lab-layout tables are HTML tables (they were text in <pre>, which lost its
    // columns on a narrow screen): one per metric, captioned, a row per activation or rate.
    let doc = parse(&html);
    let captions: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("caption"))
        .filter_map(|n| n.text().map(String::from))
        .filter(|t| t.contains("mean ± sd over seeds (n)"))
        .collect();
    assert_eq!(captions.len(), 3, "{captions:?}");
    let rows_under = |caption: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("caption") && n.text() == Some(caption))
            .map(|c| c.parent().unwrap().children().filter(|n| n.has_tag_name("tr")).count())
    };
    assert_eq!(
        rows_under("act: highest test accuracy (%), mean ± sd over seeds (n)"),
        Some(1 + 3)
    );
    assert_eq!(
        rows_under("drop: accuracy against dropout (%), mean ± sd over seeds (n)"),
        Some(1 + 3)
    );
    assert!(
        !doc.descendants()
            .filter(|n| n.has_tag_name("pre"))
            .any(|n| n.text().is_some_and(|t| t.contains("mean ± sd"))),
        "a table left as text"
    );
    // A filter narrows the page to one study.
    let html = report(&fixtures(), &out_dir("filtered"), &["--filter", "experiment=drop"]);
    assert!(!html.contains("figure-act-"), "a filtered-out study's figures remain");
}

#[test]
fn a_search_has_the_long_table_figures_and_runs() {
    let dir = out_dir("search");
    train(
        &dir,
        "s.toml",
        "name = \"s\"\ndata = \"synthetic:1:40\"\n[defaults]\nepochs = 2\nbatch_size = 20\nmodel = \"eegnet\"\n\
         [search]\nsamples = 3\nseed = 7\nlr = { log_uniform = [1e-4, 1e-2] }\n",
    );
    let html = report(&dir.join("runs"), &dir, &[]);
    let outline = outline(&html);
    for line in [
        "section long-table",
        "section figures",
        "  figure-s-eegnet-accuracy",
        "section runs",
        "section provenance",
        "runs folded: 3",
    ] {
        assert!(outline.lines().any(|l| l == line), "missing '{line}' in\n{outline}");
    }
    assert!(
        !outline.contains("section tables"),
        "a search is not an activation or dropout study:\n{outline}"
    );
}

#[test]
fn values_from_run_folders_are_escaped() {
    let dir = out_dir("escape");
    let runs = dir.join("runs");
    copy_dir(&fixtures().join("act"), &runs.join("act"));
    // A failed run whose error holds markup.
    let run = std::fs::read_dir(runs.join("act"))
        .unwrap()
        .flatten()
        .find(|e| e.path().join("status.json").exists())
        .unwrap()
        .path();
    let status_path = run.join("status.json");
    let mut status: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&status_path).unwrap()).unwrap();
    status["state"] = "failed".into();
    status["error"] = "<script>alert('x')</script> & \"quotes\" ]]>".into();
    status["host"] = "<b>host</b>".into();
    std::fs::write(&status_path, serde_json::to_string(&status).unwrap()).unwrap();
    let html = report(&runs, &dir, &[]);
    let doc = parse(&html);
    // The page's one script is its own (the sorting script, at the end of the body).
    let scripts: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("script")).collect();
    assert!(
        scripts.len() == 1 && scripts[0].text().is_some_and(|t| t.contains("table.sortable")),
        "markup from a run folder became a script"
    );
    assert!(
        !doc.descendants().any(|n| n.has_tag_name("b")),
        "markup from a run folder became elements"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"));
    assert!(
        doc.descendants().any(|n| n.attribute("class") == Some("problem")),
        "the failed run is not listed"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// URLs of the network requests a page started, from a chromium net log: every
/// URL_REQUEST_START_JOB whose initiator is an origin (the browser's own requests, such as
/// its clock or sign-in checks, say "not an origin").
fn page_requests(netlog: &str) -> Vec<String> {
    let log: serde_json::Value = serde_json::from_str(netlog).expect("a JSON net log");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_i64()
        .expect("the event type");
    log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"].as_i64() == Some(start_job))
        .filter(|e| e["params"]["initiator"].as_str().is_some_and(|i| i != "not an origin"))
        .filter_map(|e| e["params"]["url"].as_str().map(String::from))
        .collect()
}

/// Debian's chromium, if installed.
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A copy of a page without its Content-Security-Policy, so that a test's probe script runs.
fn without_policy(html: &str) -> String {
    let start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .expect("a policy");
    let end = start + html[start..].find("/>").unwrap() + 2;
    format!("{}{}", &html[..start], &html[end..])
}

/// Chromium for `test`, or `None` after saying why it is skipped (a failure where
/// EEGRUN_REQUIRE_BROWSER is set).
fn browser_for(test: &str) -> Option<PathBuf> {
    let browser = chromium();
    if browser.is_none() {
        assert!(
            std::env::var_os("EEGRUN_REQUIRE_BROWSER").is_none(),
            "EEGRUN_REQUIRE_BROWSER is set but chromium is not installed"
        );
        eprintln!("SKIPPED {test}: chromium is not installed (apt-get install chromium; .ci/run does)");
    }
    browser
}

/// Runs headless chromium on `page` with `args`; returns (stdout, stderr).
fn headless(browser: &Path, profile: &Path, args: &[String], page: &Path) -> (String, String) {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("start chromium");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "chromium failed: {stderr}");
    (stdout, stderr)
}

#[test]
fn renders_in_a_headless_browser() {
    let Some(browser) = browser_for("renders_in_a_headless_browser") else {
        return;
    };
    let dir = out_dir("browser");
    let html = report(&fixtures(), &dir, &[]);
    let page = dir.join("report.html");

    // Loads from file:// with no console message and no network request of its own
    // (chromium's net log; the browser's own requests carry no initiator). The same check
    // must catch a copy of the page that loads an image.
    let requests_of = |page: &Path, profile: &str| -> Vec<String> {
        let netlog = dir.join(format!("{profile}.netlog.json"));
        let (_, stderr) = headless(
            &browser,
            &dir.join(profile),
            &[
                format!("--log-net-log={}", netlog.display()),
                "--enable-logging=stderr".into(),
                "--v=0".into(),
                "--dump-dom".into(),
            ],
            page,
        );
        assert!(!stderr.contains("CONSOLE"), "console messages:\n{stderr}");
        page_requests(&std::fs::read_to_string(&netlog).expect("chromium wrote its net log"))
    };
    let requests = requests_of(&page, "profile-1");
    assert!(requests.is_empty(), "the page made requests: {requests:?}");
    let leaky = dir.join("leaky.html");
    std::fs::write(
        &leaky,
        without_policy(&html).replace("</body>", "<img src=\"http://example.invalid/x.png\"/></body>"),
    )
    .unwrap();
    let requests = requests_of(&leaky, "profile-0");
    assert!(
        requests.iter().any(|u| u.contains("example.invalid")),
        "the net-log check missed an image: {requests:?}"
    );

    // The policy lets the page's own script run (it titles the long table's headings) and
    // nothing else: a script added to a copy does not run.
    let (dom, _) = headless(&browser, &dir.join("profile-6"), &["--dump-dom".into()], &page);
    assert!(
        dom.contains("title=\"click to sort by this column\""),
        "the sorting script did not run"
    );
    let injected = dir.join("injected.html");
    std::fs::write(
        &injected,
        html.replace("</body>", "<script>document.title = 'injected';</script></body>"),
    )
    .unwrap();
    let (dom, _) = headless(&browser, &dir.join("profile-7"), &["--dump-dom".into()], &injected);
    assert!(
        !dom.contains("<title>injected</title>"),
        "a script the policy does not name ran"
    );
    // Clicking a heading sorts the long table by that column, numbers as numbers.
    let sorted = dir.join("sorted.html");
    let click = "<script>const th = Array.from(document.querySelectorAll('table.sortable th')) \
        .find(h => h.textContent === 'final test acc (%)'); th.click(); \
        const column = Array.from(th.parentNode.children).indexOf(th); \
        const values = document.createElement('pre'); values.id = 'values'; \
        values.textContent = Array.from(th.closest('table').querySelectorAll('tr')).slice(1) \
        .map(r => r.children[column].textContent).join('\\n'); document.body.appendChild(values);</script>";
    std::fs::write(
        &sorted,
        without_policy(&html).replace("</body>", &format!("{click}</body>")),
    )
    .unwrap();
    let (dom, _) = headless(&browser, &dir.join("profile-8"), &["--dump-dom".into()], &sorted);
    let values: Vec<f64> = dom
        .split("<pre id=\"values\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("the click probe ran")
        .lines()
        .filter_map(|v| v.split(' ').next()?.parse().ok())
        .collect();
    assert!(
        values.len() >= 3 && values.windows(2).all(|w| w[0] <= w[1]),
        "{values:?}"
    );
    // Clicked again it sorts descending, and rows with no value stay last both ways.
    let down = dir.join("sorted-down.html");
    std::fs::write(
        &down,
        without_policy(&html).replace(
            "</body>",
            &format!("{}</body>", click.replace("th.click();", "th.click(); th.click();")),
        ),
    )
    .unwrap();
    let (dom, _) = headless(&browser, &dir.join("profile-9"), &["--dump-dom".into()], &down);
    let cells: Vec<String> = dom
        .split("<pre id=\"values\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("the click probe ran")
        .lines()
        .map(|v| v.trim().to_string())
        .collect();
    let first_empty = cells
        .iter()
        .position(|c| c == "-")
        .expect("the fixtures have rows with no value");
    assert!(
        cells[first_empty..].iter().all(|c| c == "-"),
        "empty values last: {cells:?}"
    );
    let numbers: Vec<f64> = cells[..first_empty]
        .iter()
        .filter_map(|v| v.split(' ').next()?.parse().ok())
        .collect();
    assert!(
        numbers.len() >= 3 && numbers.windows(2).all(|w| w[0] >= w[1]),
        "descending: {cells:?}"
    );
    // Ascending, too, rows with no value come last.
    let (dom, _) = headless(&browser, &dir.join("profile-10"), &["--dump-dom".into()], &sorted);
    let cells: Vec<String> = dom
        .split("<pre id=\"values\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("the click probe ran")
        .lines()
        .map(|v| v.trim().to_string())
        .collect();
    let first_empty = cells.iter().position(|c| c == "-").expect("rows with no value");
    assert!(
        cells[first_empty..].iter().all(|c| c == "-"),
        "empty values last: {cells:?}"
    );

    // Every figure takes room on the page (measured by a script added to a copy).
    let probe = dir.join("probe.html");
    let script = "<script>const sizes = document.createElement('pre'); sizes.id = 'sizes'; \
        sizes.textContent = Array.from(document.querySelectorAll('figure')).map(f => { \
        const r = f.querySelector('svg').getBoundingClientRect(); \
        return f.id + ' ' + Math.round(r.width) + 'x' + Math.round(r.height); }).join('\\n'); \
        document.body.appendChild(sizes);</script>";
    std::fs::write(
        &probe,
        without_policy(&html).replace("</body>", &format!("{script}</body>")),
    )
    .unwrap();
    let (dom, _) = headless(&browser, &dir.join("profile-2"), &["--dump-dom".into()], &probe);
    let sizes = dom
        .split("<pre id=\"sizes\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("the probe ran");
    let figures = html.matches("<figure").count();
    assert_eq!(sizes.lines().count(), figures, "{sizes}");
    for line in sizes.lines() {
        let (w, h) = line.rsplit(' ').next().unwrap().split_once('x').unwrap();
        assert!(
            w.parse::<u32>().unwrap() >= 200 && h.parse::<u32>().unwrap() >= 50,
            "figure too small: {line}"
        );
    }

    // A screenshot at a laptop's width is not blank.
    let shot = dir.join("screenshot.png");
    headless(
        &browser,
        &dir.join("profile-3"),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1366,2400".into(),
        ],
        &page,
    );
    let image = image::open(&shot).expect("a PNG screenshot").to_rgb8();
    let inked = image.pixels().filter(|p| p.0.iter().any(|&c| c < 200)).count();
    let share = inked as f64 / (image.width() * image.height()) as f64;
    assert!(
        share > 0.01,
        "the screenshot is nearly blank ({:.2}% inked)",
        100.0 * share
    );
    eprintln!("screenshot {} ({:.1}% inked)", shot.display(), 100.0 * share);

    // It prints to PDF.
    let pdf = dir.join("report.pdf");
    headless(
        &browser,
        &dir.join("profile-4"),
        &[format!("--print-to-pdf={}", pdf.display())],
        &page,
    );
    let bytes = std::fs::read(&pdf).expect("a PDF");
    assert!(
        bytes.starts_with(b"%PDF") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
    // Printed, every run's folded details are there: the per-epoch tables of the runs that
    // have epochs (pdftotext from poppler-utils, which .ci/run installs).
    match Command::new("pdftotext").arg(&pdf).arg("-").output() {
        Ok(text) if text.status.success() => {
            let text = String::from_utf8_lossy(&text.stdout);
            let with_epochs = html.matches("<th>train acc %</th>").count();
            assert!(with_epochs >= 3, "the fixture has runs with epochs");
            assert_eq!(text.matches("train acc %").count(), with_epochs, "{text}");
            // The long table is not cut: every configuration's id (its 9th of 16 columns)
            // and the last columns' headings are printed.
            // (each id links to its configuration's first run: the text inside the link)
            let configs: Vec<&str> = html
                .split("<td>")
                .filter_map(|cell| cell.split("</td>").next())
                .map(|cell| match cell.strip_suffix("</a>") {
                    Some(link) => link.rsplit('>').next().unwrap_or(link),
                    None => cell,
                })
                .filter(|cell| cell.len() == 8 && cell.chars().all(|c| c.is_ascii_hexdigit()))
                .collect();
            assert!(configs.len() >= 5, "{configs:?}");
            for config in configs {
                assert!(text.contains(config), "{config} missing from the printed long table");
            }
            assert!(text.contains("@epoch") && text.contains("gap"), "{text}");
        }
        _ => assert!(
            std::env::var_os("EEGRUN_REQUIRE_BROWSER").is_none(),
            "EEGRUN_REQUIRE_BROWSER is set but pdftotext (poppler-utils) is missing"
        ),
    }

    // At a phone's width (400 px) nothing widens the page: wide tables scroll in their
    // own container and long words wrap. Headless chromium's narrowest window is 500 px,
    // so the page is measured in a 400 px frame.
    let frame = dir.join("frame.html");
    std::fs::write(
        &frame,
        "<!DOCTYPE html><html><body><iframe id=\"f\" src=\"report.html\" style=\"width:400px;height:800px;border:0\"></iframe>\
         <script>document.getElementById('f').onload = () => { const d = document.getElementById('f').contentDocument; \
         const w = document.createElement('pre'); w.id = 'width'; \
         w.textContent = d.defaultView.innerWidth + ' ' + d.documentElement.scrollWidth; document.body.appendChild(w); };</script></body></html>",
    )
    .unwrap();
    let (dom, _) = headless(
        &browser,
        &dir.join("profile-5"),
        &[
            "--dump-dom".into(),
            "--allow-file-access-from-files".into(),
            "--virtual-time-budget=5000".into(),
        ],
        &frame,
    );
    let (viewport, width): (u32, u32) = dom
        .split("<pre id=\"width\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .and_then(|w| w.trim().split_once(' '))
        .and_then(|(v, w)| Some((v.parse().ok()?, w.parse().ok()?)))
        .expect("the width probe ran");
    assert_eq!(viewport, 400);
    assert!(width <= 400, "the page is {width} px wide at a 400 px window");
}

#[test]
fn the_first_screen_states_the_findings_and_every_comparison_is_a_table_row() {
    let dir = out_dir("findings");
    train(
        &dir,
        "a.toml",
        "name = \"a\"\ndata = \"synthetic:1:40\"\n[defaults]\nepochs = 1\nbatch_size = 20\nmodel = \"eegnet\"\n\
         [grid]\nactivation = [\"relu\", \"leaky_relu\", \"elu\"]\nseed = [0, 1, 2]\n",
    );
    let html = report(&dir.join("runs"), &dir, &[]);
    let doc = parse(&html);
    let body = doc.descendants().find(|n| n.has_tag_name("body")).unwrap();
    // The summary comes right after the title and the run count, before any other section.
    let first_section = body
        .descendants()
        .find(|n| n.has_tag_name("h2"))
        .and_then(|n| n.attribute("id"));
    assert_eq!(first_section, Some("summary"), "{html}");
    let summary = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("summary"))
        .expect("a summary box");
    let claims: Vec<String> = summary
        .descendants()
        .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("verdict ")))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect();
    assert_eq!(claims.len(), 3, "the three EEGNet claims: {claims:?}");
    assert!(claims
        .iter()
        .all(|c| ["supported", "contradicted", "undecided"].contains(&c.as_str())));
    // One table row per comparison, each with a verdict.
    let table = doc
        .descendants()
        .find(|n| n.has_tag_name("h2") && n.attribute("id") == Some("findings-a-eegnet"))
        .and_then(|_| doc.descendants().find(|n| n.has_tag_name("caption")))
        .and_then(|c| c.parent())
        .expect("a findings table");
    let rows = table.children().filter(|n| n.has_tag_name("tr")).count();
    assert_eq!(rows, 1 + 3, "header and three pairs");
    assert!(
        html.contains("href=\"#findings-a-eegnet\""),
        "the contents link to the study"
    );
}

#[test]
fn a_search_report_tells_the_search() {
    let dir = out_dir("halving");
    train(
        &dir,
        "h.toml",
        "name = \"h\"\ndata = \"synthetic:1:80\"\n[defaults]\nepochs = 4\nbatch_size = 16\nval_fraction = 0.25\nmodel = \"eegnet\"\n\
         [search]\nsamples = 4\nseed = 3\nlr = { log_uniform = [1e-4, 1e-2] }\n\
         [search.early_stopping]\nkind = \"successive_halving\"\nmin_epochs = 1\nreduction_factor = 2\n",
    );
    let html = report(&dir.join("runs"), &dir, &[]);
    let doc = parse(&html);
    assert!(
        doc.descendants().any(|n| n.attribute("id") == Some("search-h")),
        "a search section"
    );
    let search: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("runs/h/search.json")).unwrap()).unwrap();
    let chosen = search["chosen"].as_str().unwrap();
    let line = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("chosen"))
        .expect("the chosen run");
    let text: String = line.descendants().filter_map(|n| n.text()).collect();
    assert!(text.contains(chosen) && text.contains("val_acc"), "{text}");
    // A header, one row per rung decision and one for the last rung (no decision there),
    // and stopped runs are not 'needing attention'.
    let rungs = search["decisions"].as_array().unwrap().len();
    let rows = doc
        .descendants()
        .filter(|n| n.has_tag_name("caption") && n.text().is_some_and(|t| t.starts_with("Each rung")))
        .flat_map(|c| c.parent().unwrap().children().filter(|n| n.has_tag_name("tr")))
        .count();
    assert_eq!(rows, 1 + rungs + 1);
    assert!(html.contains(" (last)</td><td>4</td>"), "the last rung, at 4 epochs");
    // Each point of the search's figure links to its run; the chosen one is the big dot.
    let figure = html
        .split("<figure id=\"figure-h-search\">")
        .nth(1)
        .and_then(|s| s.split("</figure>").next())
        .expect("the search figure");
    let samples = search["decisions"][0]["scores"].as_array().unwrap().len();
    assert_eq!(
        figure.matches("\"><circle ").count(),
        samples,
        "one linked point per run"
    );
    assert!(
        figure.contains(&format!("<a href=\"#run-{chosen}\"><circle ")) && figure.contains(" r=\"8\""),
        "the chosen run's point links to it"
    );
    assert!(
        !doc.descendants().any(|n| n.attribute("class") == Some("problem")),
        "stopped runs listed as problems"
    );
}

/// Trains `toml` (an experiment file's text) in `dir`.
fn train(dir: &Path, file: &str, toml: &str) {
    std::fs::write(dir.join(file), toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .current_dir(dir)
        .args([file, "--jobs", "2", "--threads", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Added to a copy of a page: for every figure, each text that leaves its SVG (clipped),
/// lies on a plotting area, or overlaps another text; and where each headline of the
/// summary box starts.
const BOX_PROBE: &str = r#"<script>
const out = [];
const meet = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
  && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
for (const f of document.querySelectorAll('figure')) {
  const svg = f.querySelector('svg'), s = svg.getBoundingClientRect();
  const areas = Array.from(svg.querySelectorAll('rect.plot-area')).map(r => r.getBoundingClientRect());
  const texts = Array.from(svg.querySelectorAll('text')).filter(t => t.textContent.trim() !== '')
    .map(t => [t.textContent, t.getBoundingClientRect()]);
  out.push('figure ' + f.id + ' areas ' + areas.length + ' texts ' + texts.length);
  for (const [text, b] of texts) {
    if (b.left < s.left - 1 || b.right > s.right + 1 || b.top < s.top - 1 || b.bottom > s.bottom + 1)
      out.push('clipped ' + f.id + ': ' + text);
    if (areas.some(a => meet(a, b))) out.push('on the plot ' + f.id + ': ' + text);
  }
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++)
    if (meet(texts[i][1], texts[j][1])) out.push('overlap ' + f.id + ': ' + texts[i][0] + ' / ' + texts[j][0]);
}
for (const li of document.querySelectorAll('.summary > ul > li'))
  out.push('headline ' + Math.round(li.getBoundingClientRect().top + window.scrollY));
const pre = document.createElement('pre'); pre.id = 'boxes'; pre.textContent = out.join('\n');
document.body.appendChild(pre);
</script>"#;

#[test]
fn figures_keep_their_text_off_the_plots_and_the_first_screen_states_the_findings() {
    let dir = out_dir("figures");
    train(
        &dir,
        "act.toml",
        "name = \"act\"\ndata = \"synthetic:1:40\"\n[defaults]\nepochs = 2\nbatch_size = 20\nmodel = \"eegnet\"\n\
         [grid]\nactivation = [\"relu\", \"leaky_relu\", \"elu\"]\nseed = [0, 1]\n",
    );
    train(
        &dir,
        "drop.toml",
        "name = \"drop\"\ndata = \"synthetic:2:40\"\n[defaults]\nepochs = 2\nbatch_size = 20\nmodel = \"eegnet\"\n\
         [grid]\ndropout = [0.1, 0.5, 0.9]\nseed = [0, 1]\n",
    );
    // 27 samples over four settings, continuous ones among them (the case that drew 54
    // legend entries over the curves, with 17-digit labels and reused colours).
    train(
        &dir,
        "s27.toml",
        "name = \"s27\"\ndata = \"synthetic:1:60\"\n[defaults]\nepochs = 3\nbatch_size = 15\nval_fraction = 0.25\nmodel = \"eegnet\"\n\
         [search]\nsamples = 27\nseed = 5\nlr = { log_uniform = [1e-4, 1e-2] }\ndropout = { uniform = [0.1, 0.7] }\n\
         activation = { choice = [\"relu\", \"leaky_relu\", \"elu\"] }\n\
         [search.early_stopping]\nkind = \"successive_halving\"\nmin_epochs = 1\nreduction_factor = 3\n",
    );
    // Models per subject: the per-subject table and figure.
    std::fs::create_dir_all(dir.join("subjects-data")).unwrap();
    common::write_subject_data(&dir.join("subjects-data"), None, None);
    train(
        &dir,
        "subj.toml",
        "name = \"subj\"\ndata = \"subjects-data\"\nprotocol = \"within-subject\"\n[defaults]\nepochs = 1\nbatch_size = 8\nmodel = \"eegnet\"\n\
         [grid]\nactivation = [\"relu\", \"elu\"]\nseed = [0, 1]\n",
    );
    let runs = dir.join("runs");
    let pages: Vec<(&str, PathBuf, String)> = [
        ("fixtures", None),
        ("act", Some("act")),
        ("drop", Some("drop")),
        ("s27", Some("s27")),
        ("subj", Some("subj")),
    ]
    .into_iter()
    .map(|(name, experiment)| {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let html = match experiment {
            Some(e) => report(&runs, &sub, &["--filter", &format!("experiment={e}")]),
            None => report(&fixtures(), &sub, &[]),
        };
        (name, sub, html)
    })
    .collect();

    // Checked without a browser: what each figure shows.
    let svgs = |html: &str, id: &str| -> String {
        let start = html
            .find(&format!("<figure id=\"figure-{id}\">"))
            .unwrap_or_else(|| panic!("figure {id}"));
        html[start..].split("</figure>").next().unwrap().to_string()
    };
    let s27 = &pages[3].2;
    let curves = svgs(s27, "s27-eegnet-accuracy");
    assert_eq!(
        curves.matches("more configurations").count(),
        1,
        "the rest grouped under one entry"
    );
    assert!(curves.matches("<text").count() < 45, "a readable legend");
    assert!(
        svgs(s27, "s27-search").contains("the chosen run"),
        "a hyperparameter-vs-score figure"
    );
    let long_number = long_number(&(svgs(s27, "s27-search") + &curves));
    assert!(long_number.is_none(), "more than 3 significant digits: {long_number:?}");
    // No accuracy-against-dropout line through runs that differ in other settings too; one
    // where only dropout varies.
    assert!(!s27.contains("figure-s27-dropout"));
    assert!(pages[2].2.contains("figure-drop-dropout"));
    // A per-subject study: its section, a row per subject, and the paired figure.
    let subj = &pages[4].2;
    assert!(
        subj.contains("<h2 id=\"subjects\">Results per subject</h2>"),
        "the per-subject section"
    );
    for s in common::SUBJECTS {
        assert!(subj.contains(&format!("<td>{s}</td>")), "a row for {s}");
    }
    assert!(
        svgs(subj, "subj-subjects").contains("mean over subjects"),
        "the per-subject figure"
    );

    let Some(browser) = browser_for("figures_keep_their_text_off_the_plots_and_the_first_screen_states_the_findings")
    else {
        return;
    };
    for (name, sub, html) in &pages {
        let probe = sub.join("probe.html");
        std::fs::write(
            &probe,
            without_policy(html).replace("</body>", &format!("{BOX_PROBE}</body>")),
        )
        .unwrap();
        let (dom, _) = headless(
            &browser,
            &sub.join("profile"),
            &["--dump-dom".into(), "--window-size=1280,800".into()],
            &probe,
        );
        let boxes = dom
            .split("<pre id=\"boxes\">")
            .nth(1)
            .and_then(|s| s.split("</pre>").next())
            .expect("the probe ran");
        let figures = html.matches("<figure").count();
        assert_eq!(
            boxes.lines().filter(|l| l.starts_with("figure ")).count(),
            figures,
            "{boxes}"
        );
        assert!(
            !boxes
                .lines()
                .any(|l| l.starts_with("figure ") && l.contains(" areas 0 ")),
            "every figure marks its plotting areas: {boxes}"
        );
        let faults: Vec<&str> = boxes
            .lines()
            .filter(|l| !l.starts_with("figure ") && !l.starts_with("headline "))
            .collect();
        assert!(faults.is_empty(), "{name}: {}", faults.join("\n"));
        // The first screen (1280×800) shows each study's headline (trained studies; the
        // fixture runs predate per-trial predictions).
        let headlines: Vec<u32> = boxes
            .lines()
            .filter_map(|l| l.strip_prefix("headline ")?.parse().ok())
            .collect();
        if *name != "fixtures" {
            assert!(!headlines.is_empty(), "{name}: no headline");
            assert!(
                headlines.iter().all(|&top| top + 24 <= 800),
                "{name}: headlines at {headlines:?}"
            );
        }
        headless(
            &browser,
            &sub.join("profile"),
            &[
                format!("--screenshot={}", sub.join("first-screen.png").display()),
                "--window-size=1280,800".into(),
            ],
            &sub.join("report.html"),
        );
        eprintln!(
            "{name}: {} figures checked, first screen in {}",
            figures,
            sub.join("first-screen.png").display()
        );
    }
}

/// The first number with more than six significant digits in the `<text>` elements of an
/// SVG, if any.
fn long_number(svg: &str) -> Option<String> {
    let texts: String = svg
        .split("</text>")
        .filter_map(|part| part.rsplit_once('>').map(|(_, text)| format!("{text} ")))
        .collect();
    let mut digits = String::new();
    let mut found = None;
    for c in texts.chars().chain([' ']) {
        if c.is_ascii_digit() || c == '.' {
            digits.push(c);
        } else {
            let significant = digits
                .trim_start_matches(['0', '.'])
                .chars()
                .filter(|c| c.is_ascii_digit())
                .count();
            if significant > 6 && digits.contains('.') && found.is_none() {
                found = Some(digits.clone());
            }
            digits.clear();
        }
    }
    found
}

/// Added to a copy of a page: its height at the window's width, the summary box's bottom
/// and how many text lines its findings take.
const SIZE_PROBE: &str = r##"<script>
const box = document.querySelector('.summary'), list = box.querySelector('ul');
const line = parseFloat(getComputedStyle(list).lineHeight);
const pre = document.createElement('pre'); pre.id = 'size';
pre.textContent = 'height ' + document.documentElement.scrollHeight
  + '\nbox-bottom ' + Math.round(box.getBoundingClientRect().bottom + window.scrollY)
  + '\nbox-lines ' + Math.round(list.getBoundingClientRect().height / line)
  + '\ngap-right ' + Math.round(Array.from(document.querySelectorAll('table.sortable th'))
      .find(th => th.textContent === 'gap').getBoundingClientRect().right);
document.body.appendChild(pre);
// A click 3 px beside each linked line of the accuracy curves: which link it lands on.
const hits = [];
for (const hit of document.querySelectorAll('a[href^="#run-"] > polyline[stroke="transparent"]')) {
  const xy = hit.getAttribute('points').split(' ').map(p => p.split(',').map(Number));
  const [a, b] = [xy[0], xy[1]];
  hit.scrollIntoView({block: 'center'});
  const point = hit.ownerSVGElement.createSVGPoint();
  point.x = a[0] + 0.75 * (b[0] - a[0]);
  point.y = a[1] + 0.75 * (b[1] - a[1]) + 3;
  const at = point.matrixTransform(hit.getScreenCTM());
  const link = document.elementFromPoint(at.x, at.y)?.closest('a');
  hits.push(hit.parentElement.getAttribute('href') + ' ' + (link ? link.getAttribute('href') : 'none'));
}
pre.textContent += '\n' + hits.map(h => 'hit ' + h).join('\n');
</script>"##;

#[test]
fn a_180_run_sweep_stays_within_its_targets_and_answers_which_settings_matter() {
    // The issue's sweep: lr 5 × dropout 6 × batch size 3 × 2 seeds, 2 epochs.
    let dir = out_dir("sweep-180");
    train(
        &dir,
        "sweep.toml",
        "name = \"sweep\"\ndata = \"synthetic:1:40\"\n[defaults]\nepochs = 2\nmodel = \"eegnet\"\n\
         [grid]\nlr = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]\ndropout = [0.0, 0.1, 0.25, 0.4, 0.5, 0.6]\n\
         batch_size = [8, 16, 32]\nseed = [0, 1]\n",
    );
    let runs = dir.join("runs");
    let out = Command::new(env!("CARGO_BIN_EXE_eegrun"))
        .args(["summarize", "--no-plots"])
        .arg(&runs)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.lines().count() <= 400, "{} lines", text.lines().count());
    assert!(text.contains("Main effects — sweep eegnet"), "{text}");
    for setting in ["lr", "dropout", "batch_size"] {
        assert!(text.contains(&format!("\n  {setting}: ")), "level means of {setting}");
    }
    assert!(text.contains("dropout × lr: 20 interaction contrasts"), "{text}");
    let headline = text
        .lines()
        .find(|l| l.starts_with("sweep eegnet ("))
        .expect("a headline");
    assert!(
        (headline.contains("settings that matter: ") || headline.contains("no setting shown to matter"))
            && headline.contains("best by ")
            && headline.contains("not shown worse"),
        "{headline}"
    );

    let html = report(&runs, &dir, &[]);
    assert!(html.len() < 400 * 1024, "{} bytes", html.len());
    assert!(html.contains("<h2 id=\"main-effects-sweep-eegnet\">"));
    assert_eq!(
        html.matches("<table class=\"heatmap\">").count(),
        3,
        "a heatmap per pair of settings"
    );
    assert!(html.contains("<p id=\"best\">"), "the best and its ties");
    assert_eq!(
        html.matches("<tr id=\"run-").count(),
        180,
        "a row per run, each its anchor"
    );
    // The top configurations and the ties link to their runs, and every link lands.
    let links: Vec<&str> = html
        .split("href=\"#run-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert!(links.len() >= 20, "{} links to runs", links.len());
    for id in links {
        assert!(
            html.contains(&format!("id=\"run-{id}\"")),
            "a link to run {id} lands nowhere"
        );
    }
    // Each figure can be saved as its own SVG file.
    assert_eq!(
        html.matches("<figure ").count(),
        html.matches("class=\"download\" download=").count()
    );
    let encoded = html
        .split("download=\"sweep-eegnet-accuracy.svg\" href=\"data:image/svg+xml;base64,")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the accuracy figure's link");
    use base64::Engine;
    let svg = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("<svg"), "the link holds the figure");
    // The 8 coloured configurations' test lines link to their runs (the links land: checked
    // above); the other 82 are one grey band, not 82 lines; each line is one element.
    assert_eq!(svg.matches("\"><title>").count(), 8, "a link per coloured line");
    assert!(svg.contains("82 more configurations: median, range"));
    assert_eq!(
        svg.matches("stroke-dasharray=\"6 4\"").count(),
        8,
        "one element per train line"
    );
    assert!(
        svg.matches("<polyline").count() < 60,
        "{} polylines",
        svg.matches("<polyline").count()
    );

    let Some(browser) = browser_for("a_180_run_sweep_stays_within_its_targets_and_answers_which_settings_matter")
    else {
        return;
    };
    let probe = dir.join("probe.html");
    std::fs::write(
        &probe,
        without_policy(&html).replace("</body>", &format!("{SIZE_PROBE}</body>")),
    )
    .unwrap();
    let (dom, _) = headless(
        &browser,
        &dir.join("profile"),
        &["--dump-dom".into(), "--window-size=1280,800".into()],
        &probe,
    );
    let size = dom
        .split("<pre id=\"size\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("the probe ran");
    let value = |name: &str| -> f64 {
        size.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {size}"))
    };
    assert!(value("height ") < 25_000.0, "{size}");
    assert!(value("box-lines ") <= 15.0, "{size}");
    assert!(
        value("box-bottom ") <= 800.0,
        "the summary fits the first screen: {size}"
    );
    assert!(
        value("gap-right ") <= 1280.0,
        "the long table's results show without scrolling at 1280 px: {size}"
    );
    // Each coloured line of the accuracy curves takes a click 3 px beside it (its 2 px
    // stroke alone would not): on its own link, or, where the 2-epoch lines run close, on
    // a neighbour's (5 of 8 on their own when measured).
    let hits: Vec<(&str, &str)> = size
        .lines()
        .filter_map(|l| l.strip_prefix("hit ")?.split_once(' '))
        .collect();
    assert_eq!(hits.len(), 8, "{size}");
    assert!(hits.iter().all(|(_, landed)| landed.starts_with("#run-")), "{size}");
    assert!(
        hits.iter().filter(|(line, landed)| line == landed).count() >= 4,
        "{size}"
    );
}
