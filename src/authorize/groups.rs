//! The process groups the harness started: authorizer programs and
//! chromedriver (with its Chromium). Each runs in a group of its own, so the
//! terminal's Ctrl-C is the harness's to handle; the terminal then no longer
//! ends them when the user quits at once with a second Ctrl-C, so the harness
//! does ([`end_started_programs`]).

use std::sync::{Mutex, PoisonError};

/// The leaders of the groups alive now.
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn groups() -> std::sync::MutexGuard<'static, Vec<u32>> {
    GROUPS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A started group, listed until this is dropped.
#[derive(Debug)]
pub(crate) struct Started(u32);

/// Lists the group `leader` leads while the result lives.
pub(crate) fn started(leader: u32) -> Started {
    groups().push(leader);
    Started(leader)
}

impl Drop for Started {
    fn drop(&mut self) {
        let mut groups = groups();
        if let Some(at) = groups.iter().position(|&g| g == self.0) {
            groups.swap_remove(at);
        }
    }
}

/// SIGKILL to every group the harness started that is still listed: for a
/// process about to exit without unwinding (a second Ctrl-C).
pub fn end_started_programs() {
    let leaders = std::mem::take(&mut *groups());
    for leader in leaders {
        kill(leader);
    }
}

/// SIGKILL to the process group `leader` leads (a shell and whatever it
/// started). Without `kill(2)` bound here, through kill(1).
pub(crate) fn kill(leader: u32) {
    #[cfg(unix)]
    {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{leader}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    #[cfg(not(unix))]
    let _ = leader;
}

#[cfg(test)]
mod tests {
    use super::*;

    // Not `end_started_programs` itself: other tests of this binary run
    // authorizer programs at the same time, and it would end theirs.
    #[cfg(unix)]
    #[test]
    fn a_started_group_is_listed_until_dropped_and_killed_whole() {
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        let mut shell = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30"])
            .process_group(0)
            .spawn()
            .unwrap();
        let leader = shell.id();
        let listed = started(leader);
        assert!(groups().contains(&leader));
        kill(leader);
        // Killed by the signal, not exited after 30 s.
        assert_eq!(shell.wait().unwrap().signal(), Some(9));
        drop(listed);
        assert!(!groups().contains(&leader));
    }
}
