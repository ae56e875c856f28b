/* Float comparison for cmocka 1.1.5 (Debian 12), which has no assert_double_equal: fails
 * with both values printed. Include after <cmocka.h>. */
#ifndef MOO_ASSERT_H
#define MOO_ASSERT_H

#include <math.h>

#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        double moo_a_ = (a), moo_b_ = (b);                                                         \
        if (!(fabs(moo_a_ - moo_b_) <= (tol))) {                                                   \
            print_error("%.17g != %.17g (tolerance %g)\n", moo_a_, moo_b_, (double)(tol));         \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#endif
