//! `gasguard init DIR --modality M`: a new submission that passes `gasguard
//! check` as created. The files are the shipped examples (`examples/M/`,
//! tested on every run): a small model.py, its model_config.yaml renamed
//! after DIR, and weights from the model's seeded initialisation. What to
//! run to replace the weights with a trained state_dict is printed (a
//! script inside the submission would itself be rejected: L007).

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::config::Modality;

struct Template {
    model_py: &'static [u8],
    config: &'static str,
    weights: &'static [u8],
    /// The model class to instantiate when saving trained weights.
    class: &'static str,
    /// `load_model`'s extra keyword arguments from the config.
    kwargs: &'static str,
}

fn template(modality: Modality) -> Template {
    match modality {
        Modality::Image => Template {
            model_py: include_bytes!("../../examples/image/model.py"),
            config: include_str!("../../examples/image/model_config.yaml"),
            weights: include_bytes!("../../examples/image/model.safetensors"),
            class: "TinyDetector",
            kwargs: "num_classes=2",
        },
        Modality::Video => Template {
            model_py: include_bytes!("../../examples/video/model.py"),
            config: include_str!("../../examples/video/model_config.yaml"),
            weights: include_bytes!("../../examples/video/model.safetensors"),
            class: "TemporalPoolDetector",
            kwargs: "num_classes=2, width=8",
        },
        Modality::Audio => Template {
            model_py: include_bytes!("../../examples/audio/model.py"),
            config: include_str!("../../examples/audio/model_config.yaml"),
            weights: include_bytes!("../../examples/audio/model.safetensors"),
            class: "WaveDetector",
            kwargs: "num_classes=2",
        },
    }
}

/// The config's `name`: DIR's name reduced to safe characters.
fn submission_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    if name.is_empty() {
        "my-detector".into()
    } else {
        name
    }
}

/// Creates the submission in `dir`, which must not exist or be empty.
pub fn create(dir: &Path, modality: Modality) -> anyhow::Result<()> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            anyhow::bail!(
                "{} exists and is not empty; choose a new folder",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let t = template(modality);
    let config = t.config.replacen(
        &format!("name: \"gasguard-example-{}\"", modality.as_str()),
        &format!("name: \"{}\"", submission_name(dir)),
        1,
    );
    for (name, bytes) in [
        ("model.py", t.model_py),
        ("model_config.yaml", config.as_bytes()),
        ("model.safetensors", t.weights),
    ] {
        let path = dir.join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(bytes))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    print!("{}", next_steps(dir, &t));
    Ok(())
}

fn next_steps(dir: &Path, t: &Template) -> String {
    let d = dir.display();
    format!(
        "created {d}: model.py, model_config.yaml, model.safetensors (seeded initial weights)

next:
  gasguard check {d}
  # after training, write the weights from your state_dict (needs torch and safetensors):
  python - <<'EOF'
import importlib.util, torch
from safetensors.torch import save_file
spec = importlib.util.spec_from_file_location(\"model\", \"{d}/model.py\")
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
model = module.{class}({kwargs})
model.load_state_dict(torch.load(\"trained.pt\", weights_only=True))  # your state_dict
save_file({{k: v.contiguous() for k, v in model.state_dict().items()}}, \"{d}/model.safetensors\")
EOF
  gasguard pack {d} -o {d}.zip
",
        class = t.class,
        kwargs = t.kwargs,
    )
}
