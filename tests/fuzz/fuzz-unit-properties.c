/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Fuzzes unit_properties_parse(), the parser of ORAIVISOR_DAEMON_PROPERTIES: the input is the variable's
 * value. A failure gives one printable line and leaves the output alone; a success gives properties of
 * known names whose values have the shape their D-Bus type needs (what bus_append_unit_property() sends). */

#include <stdio.h>

#include "strv.h"
#include "unit-property.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                          \
        do {                                                                                              \
                if (!(x)) {                                                                               \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);             \
                        abort();                                                                          \
                }                                                                                         \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 64 * 1024)
                return 0;
        _cleanup_free_ char *text = strndup((const char *) data, size);
        CHECK(text);

        _cleanup_free_ char *e = NULL;
        UnitPropertyList l = { .n = 7 };
        int r = unit_properties_parse(text, &l, &e);
        CHECK(r == 0 || r == -EINVAL);
        if (r < 0) {
                CHECK(l.n == 7 && !l.items);
                CHECK(e && e[0]);
                for (const unsigned char *p = (const unsigned char *) e; *p; p++)
                        CHECK(*p >= 0x20 && *p != 0x7f);
                return 0;
        }
        CHECK(!e);
        for (size_t i = 0; i < l.n; i++) {
                const UnitProperty *p = &l.items[i];
                CHECK(p->name && p->name[0]);
                CHECK(unit_property_type_signature(p->type));
                switch (p->type) {
                case UNIT_PROPERTY_STRING:
                        CHECK(p->s);
                        break;
                case UNIT_PROPERTY_STRV:
                case UNIT_PROPERTY_BOOL_STRV:
                        CHECK(strv_length(p->strv) >= 1);
                        break;
                case UNIT_PROPERTY_BIND:
                        CHECK(strv_length(p->strv) >= 3 && strv_length(p->strv) % 3 == 0);
                        STRV_FOREACH(s, p->strv)
                                CHECK(!strchr(*s, ' '));
                        break;
                default:
                        break;
                }
                STRV_FOREACH(s, p->strv)
                        CHECK(!strpbrk(*s, " \t\n"));
        }
        unit_property_list_done(&l);
        return 0;
}
