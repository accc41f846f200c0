//! Terminal safety for text that came from a submission or a model's
//! process. Used by the report renderers and the runtime stage alike, so it
//! sits below both (neither imports the other).

/// Replaces terminal control characters (all but newline and tab) so a
/// crafted file name or model output cannot drive the user's terminal.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}
