/* The second "dup": the same learner as dup_a.c under another version. */
#define DUP_VERSION "b"
#include "dup_a.c"
