// What this machine charges for handing work to another thread and back, with no nlkit, no Node
// and no netlink: the price of the two wake-ups in each nlkit call. Built and run by the
// profile case (bench/lib/floor.js builds it), never part of the package.
//
//   handoff <rounds> <work us> same|other   -> "ok <median us to the worker> <median us back>"
//                                              | "single-cpu" | "err <errno> <step>"
//
// Each round is what one nlkit call does between its threads: the caller signals an idle worker
// through a condition variable and sleeps; the worker wakes, works for <work us> (busy, standing
// in for the kernel's share of an attach) and signals back; the caller wakes. Measured: from the
// signal to the worker running, and from the worker's signal to the caller running. Between rounds
// both threads sleep for a millisecond, as nlkit's threads do between the bench's samples. The two
// threads are pinned to the same CPU or to two different ones (nlkit's JS thread keeps running
// after it queues a call, so the scheduler puts the woken worker on another, idle CPU).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t to_worker = PTHREAD_COND_INITIALIZER;
static pthread_cond_t to_caller = PTHREAD_COND_INITIALIZER;
static int job_queued, job_done;
static double signalled_at, woke_at, done_at;
static double work_ns;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static void* worker(void* unused) {
  (void)unused;
  for (;;) {
    pthread_mutex_lock(&mu);
    while (!job_queued) pthread_cond_wait(&to_worker, &mu);
    job_queued = 0;
    woke_at = now_ns();
    pthread_mutex_unlock(&mu);
    const double until = now_ns() + work_ns;
    while (now_ns() < until) {
    }
    pthread_mutex_lock(&mu);
    job_done = 1;
    done_at = now_ns();
    pthread_cond_signal(&to_caller);
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? atoi(argv[1]) : 0;
  work_ns = (argc > 2 ? atof(argv[2]) : 0) * 1e3;
  const int other = argc > 3 && strcmp(argv[3], "other") == 0;
  if (rounds < 1 || rounds > 100000 || work_ns < 0 || argc < 4 || (!other && strcmp(argv[3], "same") != 0)) {
    fprintf(stderr, "usage: handoff <rounds 1-100000> <work us> same|other\n");
    return 2;
  }
  // The caller on the first CPU this process may use; the worker there too, or on the next one.
  cpu_set_t allowed, caller_cpu;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    printf("err %d sched_getaffinity\n", errno);
    return 1;
  }
  int cpus[2] = {-1, -1}, found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; c++) {
    if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
  }
  if (found < (other ? 2 : 1)) {
    printf("single-cpu\n");  // nothing to measure: not a failure
    return 0;
  }
  cpu_set_t worker_cpu;
  CPU_ZERO(&caller_cpu);
  CPU_SET(cpus[0], &caller_cpu);
  CPU_ZERO(&worker_cpu);
  CPU_SET(other ? cpus[1] : cpus[0], &worker_cpu);
  if (sched_setaffinity(0, sizeof(caller_cpu), &caller_cpu) != 0) {
    printf("err %d sched_setaffinity\n", errno);
    return 1;
  }
  double* to = malloc(sizeof(double) * rounds);
  double* back = malloc(sizeof(double) * rounds);
  pthread_t t;
  if (!to || !back) {
    printf("err %d malloc\n", ENOMEM);
    return 1;
  }
  int err = pthread_create(&t, NULL, worker, NULL);
  if (err == 0) err = pthread_setaffinity_np(t, sizeof(worker_cpu), &worker_cpu);
  if (err != 0) {
    printf("err %d %s\n", err, "pthread_create/pthread_setaffinity_np");
    return 1;
  }
  usleep(1000);  // the worker is pinned and asleep on its condition variable
  for (int i = 0; i < rounds; i++) {
    pthread_mutex_lock(&mu);
    job_queued = 1;
    signalled_at = now_ns();
    pthread_cond_signal(&to_worker);
    while (!job_done) pthread_cond_wait(&to_caller, &mu);
    job_done = 0;
    const double returned_at = now_ns();
    to[i] = woke_at - signalled_at;
    back[i] = returned_at - done_at;
    pthread_mutex_unlock(&mu);
    usleep(1000);
  }
  qsort(to, rounds, sizeof(double), by_value);
  qsort(back, rounds, sizeof(double), by_value);
  printf("ok %.1f %.1f\n", to[rounds / 2] / 1e3, back[rounds / 2] / 1e3);
  return 0;
}
