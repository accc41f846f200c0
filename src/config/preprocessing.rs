//! The `preprocessing` section, per modality: the input's height and width
//! (image, video), frames (video), samples (audio), and `normalize`, which
//! the evaluator does not read.

use super::*;

const DEFAULT_NUM_FRAMES: i64 = 16;

impl ConfigCheck<'_> {
    pub(super) fn resize(
        &mut self,
        root: &Node,
        pre: Option<&Node>,
        policy: &Policy,
    ) -> Option<(i64, i64)> {
        let Some((_, v)) = pre.and_then(|p| p.get("resize")) else {
            let at = pre.map_or(root.span.start..root.span.start, |p| p.span.clone());
            self.push(
                Diagnostic::new(
                    &rules::MISSING_KEY,
                    "`preprocessing.resize` is missing; it sets the input's height and width",
                )
                .at(at)
                .help("add `preprocessing: {resize: [224, 224]}`"),
            );
            return None;
        };
        let bad = |this: &mut Self, why: String| {
            this.push(
                Diagnostic::new(&rules::INVALID_RESIZE, why)
                    .at(v.span.clone())
                    .help(format!(
                        "write `resize: [H, W]` with integers from 1 to {}",
                        policy.limits.max_side
                    )),
            );
        };
        let Value::Seq(items) = &v.value else {
            bad(
                self,
                format!("`resize` must be a list [H, W], found {}", v.type_name()),
            );
            return None;
        };
        if items.len() != 2 {
            bad(
                self,
                format!(
                    "`resize` must have two values [H, W], found {}",
                    items.len()
                ),
            );
            return None;
        }
        let mut hw = [0i64; 2];
        for (slot, item) in hw.iter_mut().zip(items) {
            match item.value {
                Value::Int(i) if i >= 1 && i as u64 <= policy.limits.max_side => *slot = i,
                Value::Int(i) => {
                    bad(
                        self,
                        format!(
                            "`resize` value {i} is outside 1..={}",
                            policy.limits.max_side
                        ),
                    );
                    return None;
                }
                _ => {
                    self.wrong_type("resize", item, "an integer");
                    return None;
                }
            }
        }
        Some((hw[0], hw[1]))
    }

    pub(super) fn frames(&mut self, pre: Option<&Node>, policy: &Policy) -> Option<i64> {
        let num = pre.and_then(|p| p.get("num_frames"));
        let legacy = pre.and_then(|p| p.get("max_frames"));
        if let (Some((k, a)), Some((_, b))) = (num, legacy)
            && a.value != b.value
        {
            self.push(
                Diagnostic::new(&rules::INVALID_FRAMES, "both `num_frames` and the legacy `max_frames` are set, to different values; the evaluator uses `num_frames`")
                    .severity(crate::diagnostic::Severity::Warning)
                    .at(k.span.clone())
                    .help("keep only `num_frames`"),
            );
        }
        let mut frames = Some(DEFAULT_NUM_FRAMES);
        if let Some((key, v)) = num.or(legacy) {
            let name = key.as_str().unwrap_or("num_frames").to_string();
            frames = self.int(&name, v);
            if let Some(t) = frames
                && (t < 1 || t as u64 > policy.limits.max_frames)
            {
                self.push(
                    Diagnostic::new(
                        &rules::INVALID_FRAMES,
                        format!(
                            "`{name}` is {t}; it must be from 1 to {}",
                            policy.limits.max_frames
                        ),
                    )
                    .at(v.span.clone())
                    .help("the evaluator samples this many frames per clip; 16 is the default"),
                );
                frames = None;
            }
        }
        if let Some((_, v)) = pre.and_then(|p| p.get("frame_rate")) {
            match v.as_f64() {
                Some(f) if f.is_finite() && f > 0.0 => {}
                Some(_) => self.push(
                    Diagnostic::new(&rules::INVALID_FRAMES, "`frame_rate` must be a positive number of frames per second")
                        .at(v.span.clone())
                        .help("write e.g. `frame_rate: 8.0`, or leave it out to sample consecutive frames"),
                ),
                None => self.wrong_type("frame_rate", v, "a number"),
            }
        }
        frames
    }

    pub(super) fn audio(&mut self, pre: Option<&Node>) -> Option<i64> {
        let rate = pre.and_then(|p| p.get("sample_rate"));
        let duration = pre.and_then(|p| p.get("duration_seconds"));
        let number = |this: &mut Self, entry: Option<(&Node, &Node)>, key: &str, default: f64| {
            match entry {
                None => Some(default),
                Some((_, v)) => {
                    match v.as_f64() {
                        Some(f) if f.is_finite() && f > 0.0 => Some(f),
                        Some(_) => {
                            this.push(
                        Diagnostic::new(&rules::INVALID_AUDIO, format!("`{key}` must be positive"))
                            .at(v.span.clone())
                            .help("16 kHz for 6 seconds: sample_rate: 16000, duration_seconds: 6.0"),
                    );
                            None
                        }
                        None => {
                            this.wrong_type(key, v, "a number");
                            None
                        }
                    }
                }
            }
        };
        let sr = number(self, rate, "sample_rate", 16000.0)?;
        let dur = number(self, duration, "duration_seconds", 6.0)?;
        let samples = (sr * dur).trunc();
        if samples != AUDIO_SAMPLES as f64 {
            let at = rate.or(duration).map_or(0..0, |(k, _)| k.span.clone());
            self.push(
                Diagnostic::new(
                    &rules::INVALID_AUDIO,
                    format!("int(sample_rate * duration_seconds) = int({sr} * {dur}) = {samples}, not {AUDIO_SAMPLES}"),
                )
                .at(at)
                .help("the evaluator feeds 6 s of 16 kHz mono: sample_rate: 16000, duration_seconds: 6.0"),
            );
            return None;
        }
        Some(AUDIO_SAMPLES)
    }

    pub(super) fn normalize(&mut self, n: &Node) {
        if n.as_map().is_none() {
            self.wrong_type("normalize", n, "a mapping with mean and std");
            return;
        }
        self.unknown_keys(n, &["mean", "std"], "`normalize`");
        for key in ["mean", "std"] {
            let Some((_, v)) = n.get(key) else {
                self.push(
                    Diagnostic::new(&rules::INVALID_NORMALIZE, format!("`normalize.{key}` is missing"))
                        .at(n.span.clone())
                        .help("give both mean and std, e.g. mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]"),
                );
                continue;
            };
            let Value::Seq(items) = &v.value else {
                self.wrong_type(key, v, "a list of three numbers");
                continue;
            };
            if items.len() != 3 {
                self.push(
                    Diagnostic::new(
                        &rules::INVALID_NORMALIZE,
                        format!("`normalize.{key}` has {} values; RGB needs 3", items.len()),
                    )
                    .at(v.span.clone())
                    .help("one value per channel: [R, G, B]"),
                );
                continue;
            }
            for item in items {
                match item.as_f64() {
                    Some(f) if !f.is_finite() => self.push(
                        Diagnostic::new(
                            &rules::INVALID_NORMALIZE,
                            format!("`normalize.{key}` holds a non-finite value"),
                        )
                        .at(item.span.clone())
                        .help("use finite numbers"),
                    ),
                    Some(f) if key == "std" && f == 0.0 => self.push(
                        Diagnostic::new(&rules::INVALID_NORMALIZE, "a `std` of 0 divides by zero")
                            .at(item.span.clone())
                            .help("use the dataset's standard deviation, e.g. 0.229"),
                    ),
                    Some(_) => {}
                    None => self.wrong_type(key, item, "a number"),
                }
            }
        }
    }
}
