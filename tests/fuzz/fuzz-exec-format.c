/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes the readiness check's readers: any bytes as a binary (an ELF or script verdict, or one reason
 * line), and the same bytes split as the loader's stdout and stderr. */

#include <string.h>

#include "exec-format.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ExecHost h = exec_host();
        ExecFormat f = {};
        _cleanup_free_ char *why = NULL;
        int r = exec_format_check(data, size, &h, &f, &why);
        if (r == -ENOMEM)
                return 0;
        if (r < 0) {
                CHECK(r == -ENOEXEC && why && !f.interpreter);
        } else {
                CHECK(!why);
                CHECK((f.kind == EXEC_ELF_STATIC) == !f.interpreter);
                CHECK(!f.interpreter || f.interpreter[0] == '/');
        }
        exec_format_done(&f);

        /* As loader output: text up to the first NUL is stdout, the rest stderr. */
        _cleanup_free_ char *text = strndup((const char *) data, size);
        if (!text)
                return 0;
        size_t n = strlen(text);
        const char *err = n < size ? (const char *) data + n + 1 : "";
        _cleanup_free_ char *err_text = strndup(err, size - MIN(size, n + 1));
        _cleanup_free_ char *why2 = NULL;
        r = loader_list_check(text, err_text ? err_text : "", size % 2 == 0, &why2);
        CHECK(r == 0 || r == -ENOEXEC || r == -ENOMEM);
        CHECK((r == -ENOEXEC) == !!why2);
        return 0;
}
