/*
** rollout.c -- the C episode loop behind dd.rollout, and its progress line.
*/
#include <stdio.h>
#include <string.h>

#include "rollout.h"

typedef struct episode_ctx {
	dd_run *run;
	const char *learner;   /* label recorded with each episode */
	dd_rollout_stats *stats;
	int log;
	int success_index;
	int64_t limit;         /* episodes wanted; 0: no limit */
} episode_ctx;

/* The last info stats of instance i as a JSON object, e.g.
** {"collision":1,"distance":108.5}: queried with json_extract(). */
static void info_json(const dd_vec_env *v, int i, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "{");
	const float *info = v->info + (size_t)i * (size_t)v->spaces.n_info;
	for (int j = 0; j < v->spaces.n_info && n < size; j++) {
		double x = info[j];
		if (x != x || x > 3.4e38 || x < -3.4e38)
			n += (size_t)snprintf(buf + n, size - n, "%s\"%s\":null", j ? "," : "",
			                      v->spaces.info_names[j]);
		else
			n += (size_t)snprintf(buf + n, size - n, "%s\"%s\":%.9g", j ? "," : "",
			                      v->spaces.info_names[j], x);
	}
	if (n + 2 <= size)
		snprintf(buf + n, size - n, "}");
	else
		snprintf(buf, size, "{}"); /* too many stats to list: none rather than broken JSON */
}

static void on_episode(void *ud, dd_vec_env *v, int i)
{
	episode_ctx *c = ud;
	dd_rollout_stats *s = c->stats;
	int success = -1;
	/* Several instances may end episodes in the last batch: {episodes = N}
	** records exactly N, the first to finish. */
	if (c->limit > 0 && s->episodes >= c->limit)
		return;
	if (c->success_index >= 0) {
		float x = v->info[(size_t)i * (size_t)v->spaces.n_info + (size_t)c->success_index];
		success = x > 0.5f;
		s->success_known++;
		s->successes += success;
	}
	s->episodes++;
	for (int j = 0; j < v->spaces.n_info; j++)
		s->info_sum[j] += v->info[(size_t)i * (size_t)v->spaces.n_info + (size_t)j];
	s->return_sum += v->ep_return[i];
	s->last_return = v->ep_return[i];
	s->length_sum += v->ep_length[i];
	if (c->log && c->run && c->run->store) {
		char json[4096];
		info_json(v, i, json, sizeof json);
		dd_episode_row row = {
			.env = v->plugin->desc.name,
			.episode = c->run->next_episode,
			.ret = v->ep_return[i],
			.length = v->ep_length[i],
			.success = success,
			.terminated = v->terminated[i],
			.truncated = v->truncated[i],
			.info = v->spaces.n_info > 0 ? json : NULL,
			.learner = c->learner,
		};
		dd_store_episode(c->run->store, c->run->id, &row);
	}
	if (c->run)
		c->run->next_episode++;
}

static int done(const dd_rollout_opts *o, const dd_rollout_stats *s)
{
	return (o->episodes > 0 && s->episodes >= o->episodes) ||
	       (o->steps > 0 && s->steps >= o->steps);
}

int dd_rollout(dd_vec_env *v, dd_learner *l, dd_run *run,
               const dd_rollout_opts *opts, dd_rollout_stats *stats,
               char *err, size_t err_size)
{
	memset(stats, 0, sizeof *stats);
	if (opts->episodes <= 0 && opts->steps <= 0) {
		snprintf(err, err_size, "rollout needs a limit: episodes= or steps=");
		return -1;
	}
	int every = opts->update_every > 0 ? opts->update_every : 1;
	episode_ctx ctx = {run, l->label, stats, opts->log_episodes,
	                   dd_vec_env_info_index(v, "success"), opts->episodes};
	double t0 = dd_now();
	if ((opts->has_seed || !v->resets) &&
	    dd_vec_env_reset_all(v, opts->has_seed ? opts->seed : run ? run->seed : 0,
	                         err, err_size) < 0)
		return -1;
	int rc = 0;
	for (int64_t batch = 0; !done(opts, stats); batch++) {
		if (dd_interrupted) {
			snprintf(err, err_size, "interrupted");
			rc = -1;
			break;
		}
		if (dd_learner_act(l, v->n, (const float *const *)v->obs, v->action, err, err_size) < 0 ||
		    dd_vec_env_step(v, err, err_size) < 0) {
			rc = -1;
			break;
		}
		stats->steps += v->n;
		if (opts->train) {
			dd_transitions t = {
				.batch = v->n,
				.obs = (const float *const *)v->obs,
				.action = v->action,
				.reward = v->reward,
				.next_obs = (const float *const *)v->next_obs,
				.terminated = v->terminated,
				.truncated = v->truncated,
				.n_info = v->spaces.n_info,
				.info = v->info,
				.next_info = v->next_info,
			};
			if (dd_learner_observe(l, &t, err, err_size) < 0) {
				rc = -1;
				break;
			}
			if ((batch + 1) % every == 0) {
				if (dd_learner_update(l, &stats->metrics, err, err_size) < 0) {
					rc = -1;
					break;
				}
				stats->updates++;
			}
		}
		if (dd_vec_env_advance(v, on_episode, &ctx, err, err_size) < 0) {
			rc = -1;
			break;
		}
		if (run && run->progress) { /* no clock read per step when nobody watches */
			stats->seconds = dd_now() - t0;
			dd_progress_show(run, stats, opts, 0);
		}
	}
	stats->seconds = dd_now() - t0;
	dd_progress_show(run, stats, opts, 1);
	return rc;
}

void dd_progress_show(dd_run *run, const dd_rollout_stats *s,
                      const dd_rollout_opts *o, int final)
{
	static double last; /* only the CLI's one thread shows progress */
	if (!run || !run->progress)
		return;
	double now = dd_now();
	if (!final && now - last < 0.2)
		return;
	last = now;
	char line[256];
	int n = 0;
	if (o->episodes > 0)
		n += snprintf(line + n, sizeof line - (size_t)n, "episode %lld/%lld",
		              (long long)s->episodes, (long long)o->episodes);
	else
		n += snprintf(line + n, sizeof line - (size_t)n, "step %lld/%lld",
		              (long long)s->steps, (long long)o->steps);
	if (s->seconds > 0)
		n += snprintf(line + n, sizeof line - (size_t)n, " | %.0f steps/s",
		              (double)s->steps / s->seconds);
	if (s->episodes > 0)
		n += snprintf(line + n, sizeof line - (size_t)n, " | mean return %.3g",
		              s->return_sum / (double)s->episodes);
	for (int i = 0; i < s->metrics.count && i < 3 && n < (int)sizeof line - 40; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, " | %s %.4g",
		              s->metrics.name[i], s->metrics.value[i]);
	printf("\r\033[K%s%s", line, final ? "\n" : "");
	fflush(stdout);
}
