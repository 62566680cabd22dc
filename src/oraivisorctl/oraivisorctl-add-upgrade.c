/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl add-upgrade NAME PATH [--height H]: upgrades/<encoded NAME>/bin/$DAEMON_NAME from a binary
 * or an archive, as oraivisor would install a download; with --height, also scheduled at that height
 * (scheduled-upgrades.json). */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fd-util.h"
#include "fs-util.h"
#include "layout.h"
#include "log.h"
#include "string-util.h"
#include "oraivisorctl-install.h"
#include "upgrade-name.h"

static int run(Ctl *ctl) {
        _cleanup_(ctl_install_done) CtlInstall i = {};
        _cleanup_(ctl_upgrade_ref_done) CtlUpgradeRef u = {};
        int r = ctl_upgrade_begin(ctl, "add-upgrade", ctl->args[0], false, &i, &u);
        if (r != CTL_EXIT_OK)
                return r;
        _cleanup_(height_schedule_done) HeightSchedule sched = {};
        if (ctl->height > 0) {
                /* Everything about the height is checked before anything is installed. */
                KnownHeight known;
                ctl_known_height(&i, &known);
                r = ctl_schedule_check_height(&i, u.shown, ctl->height, &known);
                if (r != CTL_EXIT_OK)
                        return r;
                r = ctl_schedule_load(&i, &sched);
                if (r != CTL_EXIT_OK)
                        return r;
                for (size_t k = 0; k < sched.n_entries; k++)
                        if (sched.entries[k].height == ctl->height && !streq(sched.entries[k].name, ctl->args[0])) {
                                _cleanup_free_ char *other = ctl_escape(sched.entries[k].name);
                                return ctl_fail(CTL_EXIT_FAILURE,
                                        "Upgrade '%s' is already scheduled at height %" PRId64 ": remove it first ('oraivisorctl remove-upgrade %s'), or pick another height.",
                                        strna(other), ctl->height, strna(other));
                        }
        }
        _cleanup_close_ int ufd = open_or_create_dir_at(i.layout->root_fd, "upgrades", 0755);
        if (ufd < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot open or create '%s/upgrades': %s.", i.layout->root,
                        strerror(-ufd));
        r = ctl_version_install(ctl, &i, ctl->args[1], ufd, u.folder, u.rel, u.label);
        if (ctl->height == 0 || (r != CTL_EXIT_OK && r != CTL_EXIT_NEEDS_ATTENTION))
                return r;
        int k = ctl_schedule_add(&i, &sched, ctl->args[0], u.shown, ctl->height);
        return k != CTL_EXIT_OK ? k : r;
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
                "upgrade oraivisor is carrying out is not touched (exit status 75: try again later).\n"
                "With --height H the upgrade is also scheduled at block height H, without a governance plan\n"
                "($DAEMON_HOME/oraivisor/scheduled-upgrades.json): oraivisor starts the node with its\n"
                "halt-height flag at H, and when the node stops there it upgrades to NAME as for a governance plan.\n"
                "A height the chain has passed is refused.",
        .min_args = 2,
        .max_args = 2,
        .flags = CTL_FLAG_FORCE | CTL_FLAG_HEIGHT,
        .needs_config = true,
        .run = run,
};
