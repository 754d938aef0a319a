//! `index.html`: one self-contained page per command — no network, no
//! external files. Charts are inlined as SVG, styles are inline, the scenario
//! file is quoted.
//!
//! Every page is built from the same blocks ([`Page`]): a title and
//! description, a verdict box, notes, tables, chart figures and the scenario
//! as run. This module has the blocks and the comparison's page; [`pages`] has
//! the pages of `run`, `sweep` and `plan`.

pub mod pages;

pub use pages::{plan, run, sweep};

use crate::compare::{Comparison, Plan};
use crate::report::charts::Chart;
use crate::report::{markdown, spread, table};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1250px;margin:2em auto;padding:0 1em;color:#1a1a1a;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
.verdict{background:#eef6ee;border-left:5px solid #2e7d32;padding:.8em 1em;font-size:1.1em}\
.verdict.none{background:#fff7e6;border-left-color:#e69f00}\
.verdict.info{background:#eef3f8;border-left-color:#0072b2}\
.setup{color:#555}table{border-collapse:collapse;margin:.6em 0;font-size:.9em}\
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right;white-space:nowrap}\
th.key,td.key{text-align:left}tr:nth-child(even){background:#fafafa}\
.scroll{overflow-x:auto}\
figure{margin:1.5em 0}figcaption{color:#555;font-size:.9em}svg{max-width:100%;height:auto}\
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.85em}.legend{color:#555;font-size:.9em}";

/// An HTML page under construction.
#[derive(Debug)]
pub struct Page {
    html: String,
}

impl Page {
    /// A page titled `title` (the browser tab) with heading `heading`.
    pub fn new(title: &str, heading: &str) -> Page {
        let mut html = String::from("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.push_str(&format!("<title>{}</title><style>{STYLE}</style></head><body>", escape(title)));
        html.push_str(&format!("<h1>{}</h1>", escape(heading)));
        Page { html }
    }

    /// A muted paragraph (setup, description); empty text adds nothing.
    pub fn note(&mut self, text: &str) -> &mut Self {
        if !text.is_empty() {
            self.html.push_str(&format!("<p class=\"setup\">{}</p>", escape(&text.replace('`', ""))));
        }
        self
    }

    /// A small-print paragraph under a table.
    pub fn legend(&mut self, text: &str) -> &mut Self {
        self.html.push_str(&format!("<p class=\"legend\">{}</p>", escape(&text.replace('`', ""))));
        self
    }

    /// The box a page leads with: green when the answer is clear, amber otherwise.
    pub fn verdict(&mut self, text: &str, clear: bool) -> &mut Self {
        let class = if clear { "verdict" } else { "verdict none" };
        self.html.push_str(&format!("<p class=\"{class}\">{}</p>", escape(text)));
        self
    }

    /// A neutral headline box, for pages without a pass or fail answer.
    pub fn headline(&mut self, text: &str) -> &mut Self {
        self.html.push_str(&format!("<p class=\"verdict info\">{}</p>", escape(text)));
        self
    }

    pub fn section(&mut self, heading: &str) -> &mut Self {
        self.html.push_str(&format!("<h2>{}</h2>", escape(heading)));
        self
    }

    /// A table (scrolls sideways on a narrow screen), with the split note when a cell needs it.
    pub fn table(&mut self, t: &table::Table) -> &mut Self {
        let cell = |tag: &str, i: usize, text: &str| {
            let class = if i < t.keys { " class=\"key\"" } else { "" };
            format!("<{tag}{class}>{}</{tag}>", escape(text))
        };
        self.html.push_str("<div class=\"scroll\"><table><thead><tr>");
        for (i, h) in t.header.iter().enumerate() {
            self.html.push_str(&cell("th", i, h));
        }
        self.html.push_str("</tr></thead><tbody>");
        for r in &t.rows {
            self.html.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                self.html.push_str(&cell("td", i, c));
            }
            self.html.push_str("</tr>");
        }
        self.html.push_str("</tbody></table></div>");
        if t.has_split() {
            self.legend(spread::SPLIT_NOTE);
        }
        self
    }

    /// Every chart, inlined as SVG with its caption.
    pub fn charts(&mut self, charts: &[Chart]) -> &mut Self {
        if charts.is_empty() {
            return self;
        }
        self.section("Charts");
        for ch in charts {
            self.html.push_str(&format!(
                "<figure id=\"{}\">{}<figcaption><b>{}.</b> {}</figcaption></figure>",
                escape(&ch.name),
                inline_svg(&ch.svg),
                escape(&ch.title),
                escape(&ch.caption)
            ));
        }
        self
    }

    /// Preformatted text (a VCL file, a log).
    pub fn pre(&mut self, text: &str) -> &mut Self {
        self.html.push_str(&format!("<pre>{}</pre>", escape(text)));
        self
    }

    /// The scenario file as it ran, and how (seeds, overrides).
    pub fn scenario(&mut self, path: &str, how: &str, text: &str) -> &mut Self {
        self.section("Scenario as run");
        self.html.push_str(&format!(
            "<p class=\"setup\">{} — {}.</p><pre>{}</pre>",
            escape(path),
            escape(how),
            escape(text)
        ));
        self
    }

    /// Closes the page with the version that wrote it.
    pub fn finish(&mut self, version: &str) -> String {
        self.html
            .push_str(&format!("<p class=\"setup\">Generated by stampede {}.</p></body></html>\n", escape(version)));
        std::mem::take(&mut self.html)
    }
}

/// The SVG element alone (plotters may prepend an XML declaration).
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

/// Seeds as a list: "42, 43, 44".
pub fn seed_list(seeds: &[u64]) -> String {
    seeds.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

pub fn comparison(plan: &Plan, c: &Comparison, charts: &[Chart]) -> String {
    let mut p =
        Page::new(&format!("stampede compare: {}", c.scenario), &format!("Strategy comparison: {}", c.scenario));
    p.note(&plan.scenario.description).verdict(&c.verdict, c.winner.is_some());
    if let Some(slo) = markdown::slo_line(plan, c) {
        p.note(&slo);
    }
    p.note(&markdown::setup_line(plan, c))
        .section("Results")
        .legend("Mean ± 95% half-width over seeds, in rank order; ties share a rank.")
        .table(&table::results(c, &plan.slos))
        .section(&format!("Difference from the baseline {}", c.baseline))
        .table(&table::differences(c))
        .legend(markdown::LEGEND);
    if markdown::has_infinite(c) {
        p.legend(markdown::INFINITE_NOTE);
    }
    p.section("Pairwise results")
        .table(&table::pairwise(c))
        .legend(&markdown::pairwise_note(plan))
        .charts(charts)
        .scenario(&plan.scenario.source_path, &format!("seeds {}", seed_list(&c.seeds)), &plan.scenario.source_text)
        .finish(&c.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }
}
