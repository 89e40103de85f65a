//! A figure on the page: its SVG without the XML prolog, and a link that saves it.

use crate::escape::html as escape;

/// The SVG element of a plotters SVG document (without an XML declaration).
pub(super) fn svg_body(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |start| &svg[start..])
}

/// A link that saves figure `name` as its own SVG file (the page holds it as a data URL,
/// so it works offline and loads nothing).
pub(super) fn download(name: &str, svg: &str) -> String {
    use base64::Engine;
    format!(
        "<a class=\"download\" download=\"{0}.svg\" href=\"data:image/svg+xml;base64,{1}\">download SVG</a>",
        escape(name),
        base64::engine::general_purpose::STANDARD.encode(svg.as_bytes())
    )
}
