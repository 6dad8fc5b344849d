/* lstm.h - one time step of an LSTM cell on raw float arrays, forward and
 * backward. Unrolling over time is the caller's (the tape's) job: backward
 * adds, so a weight shared by every step accumulates its gradient. */
#ifndef DD_NN_LSTM_H
#define DD_NN_LSTM_H

#include <stddef.h>

/* PyTorch's nn.LSTM / nn.LSTMCell conventions, so weights load unchanged:
 *   w_ih [4H][I], w_hh [4H][H], b_ih [4H], b_hh [4H]; the four row blocks of
 *   H are the gates in the order i, f, g, o;
 *   a = x w_ih^T + b_ih + h_prev w_hh^T + b_hh          ([B][4H])
 *   i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
 *   c = f * c_prev + i * g,   h = o * tanh(c).
 * The two biases are redundant (only their sum matters) but kept as a pair
 * for compatibility; both receive the same gradient.
 * Row-major, batch first: x [B][I], h and c [B][H].
 * Forward overwrites h, c and saved; backward ADDS into every gradient
 * buffer, any of which may be NULL (not wanted, work skipped). Kernels never
 * allocate, print or abort. */
typedef struct dd_lstm_shape {
    int batch;      /* B */
    int n_in;       /* I */
    int n_hidden;   /* H */
} dd_lstm_shape;

/* 0 if all sizes are positive, -1 otherwise. */
int dd_lstm_check(const dd_lstm_shape *s);

/* Floats forward saves for backward: the activated gates i, f, g, o and
 * tanh(c), B * 5H. */
size_t dd_lstm_saved_floats(const dd_lstm_shape *s);

/* Floats of scratch backward needs: the pre-activation gate gradient, B*4H. */
size_t dd_lstm_scratch_floats(const dd_lstm_shape *s);

/* One step. h_prev and c_prev may be NULL, meaning zeros (the first step);
 * b_ih and b_hh may be NULL, meaning no bias. h and c must not alias the
 * inputs. */
void dd_lstm_forward(const dd_lstm_shape *s, float *h, float *c, float *saved,
                     const float *x, const float *h_prev, const float *c_prev,
                     const float *w_ih, const float *w_hh, const float *b_ih,
                     const float *b_hh);

/* The same step when its input projection x w_ih^T ([B][4H], no bias) was
 * computed already, e.g. for every step of a sequence in one sgemm of T*B
 * rows: pre holds it on entry and is clobbered (h_prev w_hh^T is added into
 * it); pre may be saved itself (in place). */
void dd_lstm_forward_pre(const dd_lstm_shape *s, float *h, float *c, float *saved,
                         float *pre, const float *h_prev, const float *c_prev,
                         const float *w_hh, const float *b_ih, const float *b_hh);

/* Backward through one step given dh = dL/dh and dc = dL/dc (either NULL
 * for zero; dc is what the next step's backward sent to its c_prev). Adds
 * into dx, dh_prev, dc_prev, dw_ih, dw_hh, db_ih, db_hh (each may be NULL).
 * Needs the forward's x, h_prev, c_prev (NULL as in forward), weights and
 * saved buffer. On return scratch holds this step's gradient w.r.t. the
 * gate pre-activations a, [B][4H] (zeros if dh and dc are both NULL), which
 * dd_lstm_backward_steps can consume. */
void dd_lstm_backward(const dd_lstm_shape *s, float *dx, float *dh_prev,
                      float *dc_prev, float *dw_ih, float *dw_hh, float *db_ih,
                      float *db_hh, const float *dh, const float *dc,
                      const float *x, const float *h_prev, const float *c_prev,
                      const float *w_ih, const float *w_hh, const float *saved,
                      float *scratch);

/* The parts of backward that do not feed the recurrence - dx, dw_ih,
 * dw_hh, db_ih, db_hh - for `steps` consecutive steps at once: each is one
 * sgemm with steps*B rows instead of one with B rows per step, about twice
 * as fast for a whole LSTM backward at batch 32 (small-batch sgemms are
 * slow). Use it with dd_lstm_backward called per step (last to first) with
 * dx = dw_ih = dw_hh = db_ih = db_hh = NULL and scratch = da + t*B*4H.
 * da: [steps][B][4H]; x: [steps][B][I]; h_prev: [steps][B][H], the h each
 * step started from (with h stored as [T+1][B][H] it is h itself), or NULL
 * if every step started from zero; dx: [steps][B][I]. Adds into dx, dw_ih,
 * dw_hh, db_ih, db_hh (each may be NULL); w_ih is needed only for dx. */
void dd_lstm_backward_steps(const dd_lstm_shape *s, int steps, float *dx,
                            float *dw_ih, float *dw_hh, float *db_ih,
                            float *db_hh, const float *da, const float *x,
                            const float *h_prev, const float *w_ih);

#endif
