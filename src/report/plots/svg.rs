//! What a figure's SVG holds beyond plotters' drawing: its lines, one element each however
//! long (dashes by `stroke-dasharray`, not an element per dash), and links from lines and
//! points to the runs they stand for.

use crate::escape::html;
use plotters::style::RGBColor;

/// A line of a figure in pixels, written into the SVG by [`Stroke::svg`].
pub(super) struct Stroke {
    pub(super) points: Vec<(i32, i32)>,
    pub(super) color: RGBColor,
    pub(super) width: u32,
    pub(super) dashed: bool,
    /// The configuration the line stands for: its name and its first run, which the line
    /// links to; `None` for a line that links nowhere (and so takes no clicks from points
    /// under it).
    pub(super) link: Option<(String, String)>,
}

impl Stroke {
    /// The line as a `<polyline>` (repeated pixels left out), in a link with the
    /// configuration's name as its tooltip, over a wide transparent copy that takes clicks,
    /// where it stands for one.
    pub(super) fn svg(&self) -> String {
        let mut points = String::new();
        let mut last = None;
        for &(x, y) in &self.points {
            if last != Some((x, y)) {
                points.push_str(&format!("{x},{y} "));
                last = Some((x, y));
            }
        }
        let points = points.trim_end();
        let RGBColor(r, g, b) = self.color;
        let dash = if self.dashed { " stroke-dasharray=\"6 4\"" } else { "" };
        let line = format!(
            "<polyline fill=\"none\" stroke=\"#{r:02X}{g:02X}{b:02X}\" stroke-width=\"{}\"{dash} points=\"{points}\"",
            self.width,
        );
        match &self.link {
            None => format!("{line} pointer-events=\"none\"/>\n"),
            // Under the line, a transparent one 9 px wide takes the clicks of a thin line.
            Some((name, run)) => format!(
                "<a href=\"#run-{}\"><title>{}</title><polyline fill=\"none\" stroke=\"transparent\" stroke-width=\"9\" points=\"{points}\"/>{line}/></a>\n",
                html(run),
                html(&crate::escape::visible(name))
            ),
        }
    }
}

/// `svg` with its first circles, one per run of `runs` in order (a figure's points; its
/// legend's come after them), each wrapped in a link to the run's entry on the page (a
/// circle of run `""` left as it is).
pub(super) fn link_points(svg: &str, runs: &[&str]) -> String {
    let mut out = String::with_capacity(svg.len() + 40 * runs.len());
    let mut rest = svg;
    for run in runs {
        let Some(start) = rest.find("<circle") else { break };
        let Some(length) = rest[start..].find("/>") else { break };
        let end = start + length + 2;
        out.push_str(&rest[..start]);
        match run.is_empty() {
            true => out.push_str(&rest[start..end]),
            false => out.push_str(&format!("<a href=\"#run-{}\">{}</a>", html(run), &rest[start..end])),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_element_dashed_by_its_attribute_and_linked_where_it_stands_for_a_configuration() {
        let mut stroke = Stroke {
            points: vec![(1, 2), (1, 2), (3, 4), (5, 4)],
            color: RGBColor(255, 127, 14),
            width: 2,
            dashed: true,
            link: None,
        };
        assert_eq!(
            stroke.svg(),
            "<polyline fill=\"none\" stroke=\"#FF7F0E\" stroke-width=\"2\" stroke-dasharray=\"6 4\" \
             points=\"1,2 3,4 5,4\" pointer-events=\"none\"/>\n"
        );
        stroke.dashed = false;
        stroke.link = Some(("lr 0.001 <b>".into(), "r&1".into()));
        let svg = stroke.svg();
        assert!(
            svg.starts_with(
                "<a href=\"#run-r&amp;1\"><title>lr 0.001 &lt;b&gt;</title><polyline fill=\"none\" \
                 stroke=\"transparent\" stroke-width=\"9\" points=\"1,2 3,4 5,4\"/><polyline "
            ),
            "{svg}"
        );
        assert!(svg.ends_with("/></a>\n") && !svg.contains("dasharray") && !svg.contains("pointer-events"));
    }
}
