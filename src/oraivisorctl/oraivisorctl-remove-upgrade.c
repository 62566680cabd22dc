/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl remove-upgrade NAME: its schedule at a height cancelled; upgrades/<folder> renamed away, then
 * deleted. */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fd-util.h"
#include "layout.h"
#include "log.h"
#include "oraivisorctl-install.h"
#include "upgrade-name.h"
#include "version-install.h"

static int run(Ctl *ctl) {
        _cleanup_(ctl_install_done) CtlInstall i = {};
        _cleanup_(ctl_upgrade_ref_done) CtlUpgradeRef u = {};
        int r = ctl_upgrade_begin(ctl, "remove-upgrade", ctl->args[0], true, &i, &u);
        if (r != CTL_EXIT_OK)
                return r;
        const char *shown = u.shown, *folder = u.folder, *rel = u.rel, *label = u.label;
        if (u.found) {
                r = ctl_version_check_change(&i, rel, label, CTL_VERSION_REMOVE);
                if (r != CTL_EXIT_OK)
                        return r;
        }

        /* Its schedule at a height, if any, goes first: the node is never stopped for a version that is gone. */
        _cleanup_(height_schedule_done) HeightSchedule sched = {};
        r = ctl_schedule_load(&i, &sched);
        if (r != CTL_EXIT_OK)
                return r;
        const HeightUpgrade *h = height_schedule_find(&sched, ctl->args[0]);
        int64_t at = h ? h->height : 0;
        if (h) {
                (void) height_schedule_remove(&sched, ctl->args[0]);
                r = ctl_schedule_save(&i, &sched);
                if (r != CTL_EXIT_OK)
                        return r;
                printf("Cancelled the upgrade '%s' scheduled at height %" PRId64 ".\n", shown, at);
        }
        if (!u.found) {
                if (at > 0)
                        return CTL_EXIT_OK;
                return ctl_fail(CTL_EXIT_NOT_FOUND, "No upgrade '%s' is installed (no folder '%s/upgrades/%s') or scheduled.", shown,
                        i.layout->root, folder);
        }

        _cleanup_close_ int ufd = openat(i.layout->root_fd, "upgrades", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (ufd < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot open '%s/upgrades': %s.", i.layout->root, strerror(errno));
        r = version_remove(ufd, folder);
        if (r == -ENOENT)
                return ctl_fail(CTL_EXIT_NOT_FOUND, "No upgrade '%s' is installed (no folder '%s/%s').", shown,
                        i.layout->root, rel);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot remove '%s/%s': %s.", i.layout->root, rel, strerror(-r));
        if (r > 0)
                log_warning("'%s/%s' is gone, but what it held could not all be deleted; the next start of oraivisor removes the rest.",
                        i.layout->root, rel);
        printf("Removed upgrade '%s' ('%s/%s').\n", shown, i.layout->root, rel);
        return CTL_EXIT_OK;
}

const CtlCommand ctl_command_remove_upgrade = {
        .name = "remove-upgrade",
        .usage = "NAME",
        .summary = "Remove an installed upgrade",
        .help = "Removes $DAEMON_HOME/oraivisor/upgrades/<NAME>: renamed away first (readers see it whole or\n"
                "not at all), then deleted. Refuses the version `current` points to, and the upgrade oraivisor\n"
                "is carrying out or that an interrupted upgrade waits for. An upgrade scheduled at a height\n"
                "(add-upgrade with a height) is cancelled first.",
        .min_args = 1,
        .max_args = 1,
        .needs_config = true,
        .run = run,
};
