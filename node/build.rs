use substrate_build_script_utils::{generate_cargo_keys, rerun_if_git_head_changed};

fn main() {
	// Version string for `--version` and `system_version`, with the git commit.
	generate_cargo_keys();
	rerun_if_git_head_changed();
}
