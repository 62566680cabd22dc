/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* oraivisorctl init PATH: genesis/bin/$DAEMON_NAME from a binary (or an archive), and current -> genesis. */

#include <string.h>

#include "layout.h"
#include "log.h"
#include "oraivisorctl-install.h"

static int run(Ctl *ctl) {
        _cleanup_(ctl_install_done) CtlInstall i = {};
        int r = ctl_install_begin(ctl, "init", true, &i);
        if (r != CTL_EXIT_OK)
                return r;

        r = ctl_version_install(ctl, &i, ctl->args[0], i.layout->root_fd, "genesis", "genesis", "genesis");
        if (r != CTL_EXIT_OK)
                return r;

        /* The first start would make it too; made here, the home is complete and `status` says so. */
        _cleanup_free_ char *target = NULL, *folder = NULL;
        r = layout_current_target(i.layout, &target, &folder);
        if (r == 0) {
                if (layout_switch(i.layout, "genesis", NULL, NULL) < 0)
                        return CTL_EXIT_FAILURE;
                printf("Created '%s/current' -> genesis.\n", i.layout->root);
        } else if (r > 0 && !streq(target, "genesis"))
                printf("'%s/current' points to %s: left as it is.\n", i.layout->root, target);
        else if (r < 0)
                log_warning("'%s/current' is not a symlink to genesis or an upgrade: left as it is; point it at the version the node's data needs.",
                        i.layout->root);
        return CTL_EXIT_OK;
}

const CtlCommand ctl_command_init = {
        .name = "init",
        .usage = "PATH",
        .summary = "Install the genesis binary and point `current` to it",
        .help = "Installs PATH as $DAEMON_HOME/oraivisor/genesis/bin/$DAEMON_NAME (made executable), creating\n"
                "$DAEMON_HOME/oraivisor if needed, and creates `current` -> genesis when there is no `current`.\n"
                "PATH is the binary, or an archive (tar, tar.gz/xz/zst/bz2, zip) holding bin/$DAEMON_NAME and lib/,\n"
                "recognised by content. Nothing is visible before it is complete: it is unpacked into a staging\n"
                "folder, then published with one rename.\n"
                "Running it again with the same binary changes nothing. A different genesis binary is replaced\n"
                "only with --force, and never while oraivisor runs on a node whose `current` is genesis.",
        .min_args = 1,
        .max_args = 1,
        .flags = CTL_FLAG_FORCE,
        .needs_config = true,
        .run = run,
};
