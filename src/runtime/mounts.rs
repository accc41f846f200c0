//! The sandbox's filesystem view, made with mount(2) inside its own mount
//! namespace: a private /proc, the interpreter exposed alone under a closed
//! folder, the private scratch tmpfs, and the submission read-only.

use std::ffi::CString;
use std::path::Path;

use super::sandbox_policy::{SandboxPolicy, Scratch};

fn c_path(p: &Path) -> Result<CString, String> {
    CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| "NUL in a path".to_string())
}

fn last_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// Mounts the private scratch: a tmpfs with a size and an inode limit,
/// owned by the sandbox's user, over the (empty) host folder. It exists in
/// the sandbox's mount namespace only: nothing the model writes reaches
/// the host's disk, and it disappears with the namespace.
pub fn scratch_tmpfs(scratch: &Scratch) -> Result<(), String> {
    // SAFETY: getuid/getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let opts = CString::new(format!(
        "size={},nr_inodes={},mode=0700,uid={uid},gid={gid}",
        scratch.size, scratch.inodes
    ))
    .map_err(|e| e.to_string())?;
    let fstype = CString::new("tmpfs").map_err(|e| e.to_string())?;
    let target = c_path(&scratch.path)?;
    // SAFETY: mount(2) with valid C strings.
    let rc = unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            opts.as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(last_error("cannot mount the private scratch tmpfs"));
    }
    Ok(())
}

/// Bind-mounts `dir` over itself read-only: the model cannot change the
/// submission whatever the file permissions say.
pub fn read_only_bind(dir: &Path) -> Result<(), String> {
    let target = c_path(dir)?;
    // SAFETY: mount(2) with valid C strings and null optional arguments.
    unsafe {
        if libc::mount(
            target.as_ptr(),
            target.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REC,
            std::ptr::null(),
        ) != 0
        {
            return Err(last_error("cannot bind the submission"));
        }
        if libc::mount(
            std::ptr::null(),
            target.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
            std::ptr::null(),
        ) != 0
        {
            return Err(last_error("cannot make the submission read-only"));
        }
    }
    Ok(())
}

/// Stops mounts made in this mount namespace from propagating back out.
pub fn make_mounts_private() -> Result<(), String> {
    let root = CString::new("/").map_err(|e| e.to_string())?;
    // SAFETY: mount(2) with a valid C string and null optional arguments.
    let rc = unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "cannot make mounts private: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Mounts a /proc of the new PID namespace over the host's: the model sees
/// its own processes only, not the command lines of everything else on
/// the machine. Called in PID 1 of the new namespaces (a proc mount shows
/// the PID namespace of the process that mounts it).
pub fn private_proc() -> Result<(), String> {
    let err = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
    let proc_ = CString::new("proc").map_err(|e| e.to_string())?;
    let target = CString::new("/proc").map_err(|e| e.to_string())?;
    make_mounts_private()?;
    // SAFETY: mount(2) with valid C strings, in a mount namespace this
    // process owns through its user namespace.
    unsafe {
        if libc::mount(
            proc_.as_ptr(),
            target.as_ptr(),
            proc_.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        ) != 0
        {
            return Err(err("cannot mount a private /proc"));
        }
    }
    Ok(())
}

/// Makes `policy.expose` readable to the unprivileged child: in a new mount
/// namespace, each closed ancestor (say /root) is covered with an empty
/// tmpfs into which only the needed folders are moved back. Everything else
/// under it (keys, wallets, shell history) is simply not there.
pub fn expose(policy: &SandboxPolicy) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let c = |p: &std::path::Path| {
        CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| "NUL in a path".to_string())
    };
    let err = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
    // SAFETY: mount(2)/unshare(2) with valid C strings; single-threaded.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(err("cannot create a mount namespace"));
        }
        make_mounts_private()?;
        let mut n = 0;
        for (closed, folders) in &policy.expose {
            let mut staged = Vec::new();
            for folder in folders {
                let stage = policy.stage.join(n.to_string());
                n += 1;
                std::fs::DirBuilder::new()
                    .mode(0o755)
                    .create(&stage)
                    .map_err(|e| e.to_string())?;
                if libc::mount(
                    c(folder)?.as_ptr(),
                    c(&stage)?.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(err(&format!("cannot bind {}", folder.display())));
                }
                staged.push((stage, folder));
            }
            let tmpfs = c(std::path::Path::new("tmpfs"))?;
            let opts = CString::new("mode=0755,size=1m").map_err(|e| e.to_string())?;
            if libc::mount(
                tmpfs.as_ptr(),
                c(closed)?.as_ptr(),
                tmpfs.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                opts.as_ptr().cast(),
            ) != 0
            {
                return Err(err(&format!("cannot cover {}", closed.display())));
            }
            for (stage, folder) in staged {
                std::fs::DirBuilder::new()
                    .mode(0o755)
                    .recursive(true)
                    .create(folder)
                    .map_err(|e| e.to_string())?;
                if libc::mount(
                    c(&stage)?.as_ptr(),
                    c(folder)?.as_ptr(),
                    std::ptr::null(),
                    libc::MS_MOVE,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(err(&format!("cannot expose {}", folder.display())));
                }
            }
        }
    }
    Ok(())
}
