/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl add-upgrade NAME PATH: upgrades/<encoded NAME>/bin/$DAEMON_NAME from a binary or an
 * archive, as oraivisor would install a download. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "fd-util.h"
#include "fs-util.h"
#include "layout.h"
#include "log.h"
#include "oraivisorctl-install.h"
#include "upgrade-name.h"

static int run(Ctl *ctl) {
        _cleanup_(ctl_install_done) CtlInstall i = {};
        _cleanup_(ctl_upgrade_ref_done) CtlUpgradeRef u = {};
        int r = ctl_upgrade_begin(ctl, "add-upgrade", ctl->args[0], false, &i, &u);
        if (r != CTL_EXIT_OK)
                return r;
        _cleanup_close_ int ufd = open_or_create_dir_at(i.layout->root_fd, "upgrades", 0755);
        if (ufd < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot open or create '%s/upgrades': %s.", i.layout->root,
                        strerror(-ufd));
        return ctl_version_install(ctl, &i, ctl->args[1], ufd, u.folder, u.rel, u.label);
}

const CtlCommand ctl_command_add_upgrade = {
        .name = "add-upgrade",
        .usage = "NAME PATH",
        .summary = "Install the binary of upgrade NAME ahead of its height",
        .help = "Installs PATH as $DAEMON_HOME/oraivisor/upgrades/<NAME>/bin/$DAEMON_NAME, where <NAME> is the\n"
                "plan's name percent-encoded exactly as oraivisor looks it up. PATH is the binary (made\n"
                "executable), or an archive (tar, tar.gz/xz/zst/bz2, zip) holding bin/$DAEMON_NAME and lib/,\n"
                "recognised by content and unpacked by the same sandboxed code and limits as downloads. The\n"
                "version appears at once, complete, or not at all.\n"
                "An installed upgrade with the same binary is left as it is; a different one is replaced only\n"
                "with --force. The version `current` points to is not replaced while oraivisor runs, and the\n"
                "upgrade oraivisor is carrying out is not touched (exit status 75: try again later).",
        .min_args = 2,
        .max_args = 2,
        .flags = CTL_FLAG_FORCE,
        .needs_config = true,
        .run = run,
};
