/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the mapping of upgrade plan names (from governance proposals: anyone's text) to folders under
 * upgrades/: an encoded name is one safe path component of unreserved bytes and %XX escapes that decodes
 * back to the name; cosmovisor's folder and the lower-cased folder are single components too; a folder
 * read back from disk decodes to a name whose folder names the same bytes. */

#include <ctype.h>
#include <strings.h>

#include "fuzz-util.h"
#include "upgrade-name.h"

static bool folder_chars_ok(const char *f) {
        for (const char *p = f; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("._~-%", *p))
                        return false;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *name = fuzz_strndup(data, size), *folder = NULL, *back = NULL, *cosmo = NULL,
                            *lower = NULL, *dec = NULL, *enc = NULL;

        int r = upgrade_name_to_folder(name, &folder);
        CHECK(r == 0 || r == -EINVAL || r == -ENAMETOOLONG);
        if (r < 0)
                CHECK(upgrade_name_error(r));
        else {
                CHECK(fuzz_is_component(folder, UPGRADE_FOLDER_NAME_MAX));
                CHECK(folder_chars_ok(folder));
                CHECK(upgrade_folder_to_name(folder, &back) == 0);
                CHECK(streq(back, name));

                r = upgrade_name_to_cosmovisor_folder(name, &cosmo);
                CHECK(r == 0 || r == -ENAMETOOLONG);
                if (r == 0 && cosmo)
                        CHECK(fuzz_is_component(cosmo, UPGRADE_FOLDER_NAME_MAX) && !streq(cosmo, folder));
                CHECK(upgrade_folder_lowercase(folder, &lower) == 0);
                if (lower)
                        CHECK(fuzz_is_component(lower, UPGRADE_FOLDER_NAME_MAX) && !streq(lower, folder));
        }

        /* The input as a folder found under upgrades/. */
        r = upgrade_folder_to_name(name, &dec);
        CHECK(r == 0 || r == -EINVAL);
        if (r == 0) {
                CHECK(dec[0] && !streq(dec, ".") && !streq(dec, ".."));
                r = upgrade_name_to_folder(dec, &enc);
                CHECK(r == 0 || r == -ENAMETOOLONG);
                if (r == 0)
                        CHECK(strcasecmp(enc, name) == 0 || strchr(name, '%') || !folder_chars_ok(name));
        }
        return 0;
}
