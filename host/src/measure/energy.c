/*
 * energy.c - energy from real meters only (SPEC section 9): RAPL energy
 * counters through the powercap sysfs, NVML loaded at run time, and the
 * XMC power sensor of Alveo cards. Counters are read as differences (with
 * wraparound); power sensors are sampled on a background thread and
 * integrated with the trapezoidal rule.
 *
 * Every sysfs path starts at $HMN_SYSFS_ROOT when it is set (the unit
 * tests point it at fixture trees with the kernel's file formats), else
 * at /sys.
 */
#include "internal.h"
#include "io/io.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HMN__METER_PATH_MAX 4096
#define HMN__METER_SOURCE_MAX 256
/* More RAPL zones than any machine has: a package and a dram zone for
 * each of 32 sockets. */
#define HMN__RAPL_MAX_ZONES 64
#define HMN__DEFAULT_PERIOD 0.1

enum { HMN__METER_RAPL, HMN__METER_NVML, HMN__METER_XMC };

/* NVML's C interface, declared here so that hmn builds without NVIDIA's
 * headers; the values are those of NVML's stable ABI. */
typedef int hmn__nvml_return;
typedef struct hmn__nvml_device_st *hmn__nvml_device;
#define HMN__NVML_SUCCESS 0
#define HMN__NVML_NAME_MAX 96

typedef struct {
  void *lib;
  hmn__nvml_return (*init)(void);
  hmn__nvml_return (*shutdown)(void);
  const char *(*error_string)(hmn__nvml_return);
  hmn__nvml_return (*count)(unsigned int *);
  hmn__nvml_return (*handle)(unsigned int, hmn__nvml_device *);
  hmn__nvml_return (*name)(hmn__nvml_device, char *, unsigned int);
  hmn__nvml_return (*energy)(hmn__nvml_device, unsigned long long *); /* mJ */
  hmn__nvml_return (*power)(hmn__nvml_device, unsigned int *);        /* mW */
  bool initialized;
  hmn__nvml_device device;
  bool use_energy; /* the total-energy counter works; else power samples */
} hmn__nvml;

typedef struct {
  char energy_path[HMN__METER_PATH_MAX];
  uint64_t range; /* max_energy_range_uj: the counter wraps to 0 past it */
  uint64_t prev;  /* last reading, in microjoules */
} hmn__rapl_zone;

struct hmn_meter {
  int type;
  char source[HMN__METER_SOURCE_MAX];
  /* RAPL */
  hmn__rapl_zone *zones;
  size_t n_zones;
  /* XMC */
  char power_path[HMN__METER_PATH_MAX];
  /* NVML */
  hmn__nvml nvml;
  uint64_t nvml_prev_mj;
  /* The interval: energy so far, the last reading's time and power. */
  double period;
  double t_start, t_last, p_last;
  double joules;
  uint64_t samples;
  /* The sampler thread; `lock` guards everything above while it runs. */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t thread;
  bool sync_ready; /* lock and wake were initialised */
  bool running;
  bool stop;
  int sample_status; /* the sampler's first error, reported by stop */
  hmn_error sample_err;
};

/* ---- sysfs ---- */

/* strerror is not thread-safe and the sampler thread reports errors too. */
static const char *hmn__errno_text(int code, char *buf, size_t size) {
  if (strerror_r(code, buf, size) != 0) snprintf(buf, size, "error %d", code);
  return buf;
}

/* Read a small text file whole into buf; returns 0 or an errno value. */
static int hmn__read_text(const char *path, char *buf, size_t size) {
  buf[0] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  size_t got = 0;
  int code = 0;
  while (got + 1 < size) {
    ssize_t n = read(fd, buf + got, size - 1 - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      code = errno;
      break;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  buf[got] = '\0';
  return code;
}

/* A sysfs number: decimal digits, then optional whitespace. `what` and
 * the meter name make the message ("RAPL energy_uj not readable: ..."). */
static int hmn__read_u64(const char *meter, const char *what, const char *path, uint64_t *out,
                         hmn_error *err) {
  char buf[64], reason[128];
  int code = hmn__read_text(path, buf, sizeof buf);
  /* sysfs ends each value with a newline; messages quote it without. */
  size_t len = strlen(buf);
  while (len > 0 && isspace((unsigned char)buf[len - 1])) buf[--len] = '\0';
  if (code != 0)
    return hmn__fail(err, code == ENOENT ? HMN_EUNSUPPORTED : HMN_EIO,
                     "%s %s not readable: %s (%s)", meter, what,
                     hmn__errno_text(code, reason, sizeof reason), path);
  const char *p = buf;
  while (*p == ' ' || *p == '\t') p++;
  char *end = NULL;
  errno = 0;
  unsigned long long v = isdigit((unsigned char)*p) ? strtoull(p, &end, 10) : 0;
  if (end == NULL || end == p || errno != 0 || *end != '\0')
    return hmn__fail(err, HMN_EFORMAT, "%s %s not a number: '%.32s' (%s)", meter, what, buf,
                     path);
  *out = (uint64_t)v;
  return HMN_OK;
}

static int hmn__path(char *buf, const char *fmt, const char *a, const char *b) {
  int n = snprintf(buf, HMN__METER_PATH_MAX, fmt, a, b);
  return n < 0 || n >= HMN__METER_PATH_MAX ? -1 : 0;
}

/* ---- RAPL (powercap) ---- */

static int hmn__zone_compare(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The zones to sum: every package (top-level intel-rapl:N named
 * package-N) and every dram subzone (intel-rapl:N:M named dram), which
 * the package does not include. psys covers the package, and core and
 * uncore are parts of it, so adding them would count energy twice. The
 * intel-rapl-mmio zones repeat the package counters and are skipped too. */
static int hmn__rapl_open(hmn_meter *m, hmn_error *err) {
  const char *root = hmn__sysfs_root();
  char dir[HMN__METER_PATH_MAX], path[HMN__METER_PATH_MAX], reason[128];
  char *names[HMN__RAPL_MAX_ZONES];
  size_t n_names = 0;
  DIR *d = NULL;
  int rc = HMN_OK;
  if (hmn__path(dir, "%s%s", root, "/class/powercap") != 0) {
    rc = hmn__fail(err, HMN_EINVAL, "RAPL not available: HMN_SYSFS_ROOT is too long");
    goto cleanup;
  }
  if ((d = opendir(dir)) == NULL) {
    rc = hmn__fail(err, HMN_EUNSUPPORTED, "RAPL not available: cannot open %s: %s", dir,
                   hmn__errno_text(errno, reason, sizeof reason));
    goto cleanup;
  }
  struct dirent *entry;
  while ((entry = readdir(d)) != NULL) {
    const char *name = entry->d_name;
    if (strncmp(name, "intel-rapl:", 11) != 0) continue;
    bool sub = strchr(name + 11, ':') != NULL;
    char zone_name[64];
    if (hmn__path(path, "%s/%s/name", dir, name) != 0 ||
        hmn__read_text(path, zone_name, sizeof zone_name) != 0)
      continue;
    zone_name[strcspn(zone_name, "\n")] = '\0';
    bool wanted = sub ? strcmp(zone_name, "dram") == 0 : strncmp(zone_name, "package", 7) == 0;
    if (!wanted) continue;
    if (n_names == HMN__RAPL_MAX_ZONES) {
      rc = hmn__fail(err, HMN_EUNSUPPORTED, "RAPL: more than %d zones under %s",
                     HMN__RAPL_MAX_ZONES, dir);
      goto cleanup;
    }
    if ((names[n_names] = hmn__strdup(name)) == NULL) {
      rc = hmn__fail(err, HMN_ENOMEM, "out of memory opening the RAPL meter");
      goto cleanup;
    }
    n_names++;
  }
  if (n_names == 0) {
    rc = hmn__fail(err, HMN_EUNSUPPORTED,
                   "RAPL not available: no package zone (intel-rapl:N named package-N) under %s",
                   dir);
    goto cleanup;
  }
  /* readdir's order is arbitrary; the source text should not be. */
  qsort(names, n_names, sizeof names[0], hmn__zone_compare);
  if ((m->zones = hmn__calloc(n_names, sizeof *m->zones)) == NULL) {
    rc = hmn__fail(err, HMN_ENOMEM, "out of memory opening the RAPL meter");
    goto cleanup;
  }
  m->n_zones = n_names;
  size_t used = (size_t)snprintf(m->source, sizeof m->source, "RAPL");
  for (size_t z = 0; z < n_names && rc == HMN_OK; z++) {
    hmn__rapl_zone *zone = &m->zones[z];
    char zone_name[64] = "?";
    if (hmn__path(path, "%s/%s/name", dir, names[z]) == 0 &&
        hmn__read_text(path, zone_name, sizeof zone_name) == 0)
      zone_name[strcspn(zone_name, "\n")] = '\0';
    /* A dram subzone is named after its package: intel-rapl:1:0 is dram-1. */
    const char *sub = strchr(names[z] + 11, ':');
    if (used < sizeof m->source)
      used += (size_t)snprintf(m->source + used, sizeof m->source - used, "%s%s%s%.*s",
                               z == 0 ? " " : " + ", zone_name, sub != NULL ? "-" : "",
                               sub != NULL ? (int)(sub - (names[z] + 11)) : 0, names[z] + 11);
    if (hmn__path(zone->energy_path, "%s/%s/energy_uj", dir, names[z]) != 0 ||
        hmn__path(path, "%s/%s/max_energy_range_uj", dir, names[z]) != 0) {
      rc = hmn__fail(err, HMN_EINVAL, "RAPL not available: HMN_SYSFS_ROOT is too long");
      break;
    }
    if ((rc = hmn__read_u64("RAPL", "max_energy_range_uj", path, &zone->range, err)) != HMN_OK)
      break;
    if (zone->range == 0) {
      rc = hmn__fail(err, HMN_EFORMAT, "RAPL max_energy_range_uj is 0 (%s)", path);
      break;
    }
    /* Read once now, so that an unreadable counter (root-only since
     * Linux 5.10) is reported before a run rather than after it. */
    rc = hmn__read_u64("RAPL", "energy_uj", zone->energy_path, &zone->prev, err);
  }
  if (rc == HMN_OK && used < sizeof m->source)
    snprintf(m->source + used, sizeof m->source - used, " (powercap energy counters)");
cleanup:
  if (d != NULL) closedir(d);
  for (size_t k = 0; k < n_names; k++) hmn__free(names[k]);
  return rc;
}

/* Joules since the last reading, across a wraparound of each counter. An
 * interval longer than a whole range would lose energy; the sampler reads
 * far more often than that (the range is hundreds of kJ). */
static int hmn__rapl_read(hmn_meter *m, bool first, double *joules, hmn_error *err) {
  double sum = 0.0;
  for (size_t z = 0; z < m->n_zones; z++) {
    hmn__rapl_zone *zone = &m->zones[z];
    uint64_t now = 0;
    int rc = hmn__read_u64("RAPL", "energy_uj", zone->energy_path, &now, err);
    if (rc != HMN_OK) return rc;
    if (!first) {
      uint64_t delta = now >= zone->prev ? now - zone->prev : zone->range - zone->prev + now;
      sum += 1e-6 * (double)delta;
    }
    zone->prev = now;
  }
  *joules = sum;
  return HMN_OK;
}

/* ---- Alveo XMC ---- */

/* The PCI address of a sysfs device directory: the path component after
 * bus/pci/devices/. */
static void hmn__pci_address(const char *power_path, const char *devices_dir, char *out,
                             size_t size) {
  const char *p = power_path + strlen(devices_dir) + 1;
  size_t n = strcspn(p, "/");
  snprintf(out, size, "%.*s", (int)n, p);
}

/* The card of a PCI address: without its function number (".0", ".1"),
 * as the management and user functions of one card both carry an XMC. */
static bool hmn__same_card(const char *a, const char *b) {
  size_t la = strcspn(a, "."), lb = strcspn(b, ".");
  return la == lb && strncmp(a, b, la) == 0;
}

static int hmn__xmc_open(hmn_meter *m, const char *select, hmn_error *err) {
  const char *root = hmn__sysfs_root();
  char devices[HMN__METER_PATH_MAX], pattern[HMN__METER_PATH_MAX];
  glob_t g;
  memset(&g, 0, sizeof g);
  int rc = HMN_OK;
  bool globbed = false;
  if (hmn__path(devices, "%s%s", root, "/bus/pci/devices") != 0 ||
      hmn__path(pattern, "%s%s", devices, "/*/xmc.*/xmc_power") != 0) {
    rc = hmn__fail(err, HMN_EINVAL, "XMC not available: HMN_SYSFS_ROOT is too long");
    goto cleanup;
  }
  /* No match (GLOB_NOMATCH) is the usual case without a card. */
  int g_rc = glob(pattern, 0, NULL, &g);
  globbed = true;
  /* The cards that match the selection, one entry per card. */
  const char *chosen = NULL;
  char chosen_pci[64] = "", list[512] = "";
  size_t n_cards = 0, list_used = 0;
  for (size_t k = 0; g_rc == 0 && k < g.gl_pathc; k++) {
    char pci[64];
    hmn__pci_address(g.gl_pathv[k], devices, pci, sizeof pci);
    if (select != NULL && strncmp(pci, select, strlen(select)) != 0) continue;
    if (chosen != NULL && hmn__same_card(pci, chosen_pci)) continue;
    if (chosen == NULL) {
      chosen = g.gl_pathv[k];
      snprintf(chosen_pci, sizeof chosen_pci, "%s", pci);
    }
    n_cards++;
    if (list_used < sizeof list)
      list_used += (size_t)snprintf(list + list_used, sizeof list - list_used, "%s%s",
                                    n_cards > 1 ? ", " : "", pci);
  }
  if (n_cards == 0) {
    rc = hmn__fail(err, HMN_EUNSUPPORTED,
                   "XMC not available: no Alveo power sensor (xmc.*/xmc_power) under %s%s%s "
                   "(is XRT's xclmgmt or xocl driver loaded?)",
                   devices, select != NULL ? " for PCI address " : "", select != NULL ? select : "");
    goto cleanup;
  }
  if (n_cards > 1) {
    rc = hmn__fail(err, HMN_EINVAL,
                   "XMC: %zu Alveo cards (%s); name one, e.g. xmc:%s", n_cards, list, chosen_pci);
    goto cleanup;
  }
  snprintf(m->power_path, sizeof m->power_path, "%s", chosen);
  snprintf(m->source, sizeof m->source, "XMC xmc_power of Alveo card %s (sampled, integrated)",
           chosen_pci);
  uint64_t uw = 0;
  rc = hmn__read_u64("XMC", "xmc_power", m->power_path, &uw, err);
cleanup:
  if (globbed) globfree(&g);
  return rc;
}

static int hmn__xmc_read(hmn_meter *m, double *watts, hmn_error *err) {
  uint64_t uw = 0;
  int rc = hmn__read_u64("XMC", "xmc_power", m->power_path, &uw, err);
  if (rc == HMN_OK) *watts = 1e-6 * (double)uw;
  return rc;
}

/* ---- NVML ---- */

static const char *hmn__nvml_error(const hmn__nvml *n, hmn__nvml_return r) {
  const char *text = n->error_string != NULL ? n->error_string(r) : NULL;
  return text != NULL ? text : "unknown NVML error";
}

static void hmn__nvml_close(hmn__nvml *n) {
  if (n->initialized) n->shutdown();
  n->initialized = false;
  if (n->lib != NULL) dlclose(n->lib);
  n->lib = NULL;
}

static int hmn__nvml_open(hmn_meter *m, const char *select, const char *device, hmn_error *err) {
  hmn__nvml *n = &m->nvml;
  /* Only the runtime library: it comes with NVIDIA's driver, so a machine
   * without it has no NVIDIA GPU to measure. HMN_NVML_LIBRARY names
   * another file (the tests load a stand-in). */
  const char *file = getenv("HMN_NVML_LIBRARY");
  if (file == NULL || file[0] == '\0') file = "libnvidia-ml.so.1";
  n->lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (n->lib == NULL) {
    const char *why = dlerror();
    return hmn__fail(err, HMN_EUNSUPPORTED, "NVML not available: cannot load %s (%s)", file,
                     why != NULL ? why : "not found");
  }
  /* POSIX guarantees that dlsym's object pointers convert to functions. */
#define HMN__NVML_SYM(field, symbol)                                              \
  do {                                                                            \
    void *sym_ = dlsym(n->lib, symbol);                                           \
    if (sym_ == NULL)                                                             \
      return hmn__fail(err, HMN_EUNSUPPORTED, "NVML not available: %s lacks %s", \
                       file, symbol);                                             \
    memcpy(&n->field, &sym_, sizeof sym_);                                        \
  } while (0)
  HMN__NVML_SYM(init, "nvmlInit_v2");
  HMN__NVML_SYM(shutdown, "nvmlShutdown");
  HMN__NVML_SYM(error_string, "nvmlErrorString");
  HMN__NVML_SYM(count, "nvmlDeviceGetCount_v2");
  HMN__NVML_SYM(handle, "nvmlDeviceGetHandleByIndex_v2");
  HMN__NVML_SYM(name, "nvmlDeviceGetName");
  HMN__NVML_SYM(energy, "nvmlDeviceGetTotalEnergyConsumption");
  HMN__NVML_SYM(power, "nvmlDeviceGetPowerUsage");
#undef HMN__NVML_SYM
  hmn__nvml_return r = n->init();
  if (r != HMN__NVML_SUCCESS)
    return hmn__fail(err, HMN_EUNSUPPORTED, "NVML not available: nvmlInit failed: %s",
                     hmn__nvml_error(n, r));
  n->initialized = true;
  unsigned int count = 0;
  if ((r = n->count(&count)) != HMN__NVML_SUCCESS || count == 0)
    return hmn__fail(err, HMN_EUNSUPPORTED, "NVML not available: no NVIDIA GPU (%s)",
                     r != HMN__NVML_SUCCESS ? hmn__nvml_error(n, r) : "count 0");
  /* The GPU: by index, else by the device's name, else the only one. */
  long index = -1;
  char name[HMN__NVML_NAME_MAX] = "";
  if (select != NULL) {
    char *end = NULL;
    index = strtol(select, &end, 10);
    if (end == select || *end != '\0' || index < 0 || (unsigned long)index >= count)
      return hmn__fail(err, HMN_EINVAL, "NVML: no GPU with index '%s' (there are %u)", select,
                       count);
  } else {
    unsigned int matches = 0;
    for (unsigned int k = 0; k < count; k++) {
      hmn__nvml_device dev;
      char dev_name[HMN__NVML_NAME_MAX] = "";
      if (n->handle(k, &dev) != HMN__NVML_SUCCESS ||
          n->name(dev, dev_name, sizeof dev_name) != HMN__NVML_SUCCESS)
        continue;
      bool match = device == NULL || hmn__contains_nocase(dev_name, device) ||
                   hmn__contains_nocase(device, dev_name);
      if (match && matches++ == 0) index = (long)k;
    }
    if (matches == 0)
      return hmn__fail(err, HMN_EUNSUPPORTED, "NVML: no NVIDIA GPU named '%s' among %u",
                       device != NULL ? device : "", count);
    if (matches > 1)
      return hmn__fail(err, HMN_EINVAL,
                       "NVML: %u GPUs match '%s'; name one by index, e.g. nvml:%ld", matches,
                       device != NULL ? device : "any", index);
  }
  if ((r = n->handle((unsigned int)index, &n->device)) != HMN__NVML_SUCCESS)
    return hmn__fail(err, HMN_EDEVICE, "NVML: GPU %ld: %s", index, hmn__nvml_error(n, r));
  if (n->name(n->device, name, sizeof name) != HMN__NVML_SUCCESS) snprintf(name, sizeof name, "?");
  name[sizeof name - 1] = '\0';
  /* The energy counter (Volta and newer) integrates on the GPU; older
   * GPUs only give power, which is then sampled and integrated here. */
  unsigned long long mj = 0;
  unsigned int mw = 0;
  if ((r = n->energy(n->device, &mj)) == HMN__NVML_SUCCESS) {
    n->use_energy = true;
    snprintf(m->source, sizeof m->source, "NVML total energy of GPU %ld (%s)", index, name);
  } else if ((r = n->power(n->device, &mw)) == HMN__NVML_SUCCESS) {
    snprintf(m->source, sizeof m->source, "NVML power of GPU %ld (%s), sampled, integrated", index,
             name);
  } else {
    return hmn__fail(err, HMN_EUNSUPPORTED, "NVML: GPU %ld (%s) reports neither energy nor power: %s",
                     index, name, hmn__nvml_error(n, r));
  }
  return HMN_OK;
}

/* ---- readings ---- */

static double hmn__monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void hmn__meter_reset(hmn_meter *m) {
  m->joules = 0.0;
  m->samples = 0;
  m->p_last = 0.0;
  m->t_start = m->t_last = 0.0;
}

/* One reading at time `now` (seconds): counters add their difference to
 * the previous reading, power meters the trapezoid since it. The first
 * reading of an interval only sets the baseline. */
int hmn__meter_sample(hmn_meter *m, double now, hmn_error *err) {
  bool first = m->samples == 0;
  double joules = 0.0, watts = 0.0;
  int rc = HMN_OK;
  switch (m->type) {
  case HMN__METER_RAPL:
    rc = hmn__rapl_read(m, first, &joules, err);
    break;
  case HMN__METER_XMC:
    rc = hmn__xmc_read(m, &watts, err);
    break;
  default: {
    hmn__nvml *n = &m->nvml;
    hmn__nvml_return r;
    if (n->use_energy) {
      unsigned long long mj = 0;
      if ((r = n->energy(n->device, &mj)) == HMN__NVML_SUCCESS) {
        /* A 64-bit millijoule counter does not wrap in practice; a
         * driver reload resets it, which must not count as energy. */
        if (!first && (uint64_t)mj >= m->nvml_prev_mj)
          joules = 1e-3 * (double)((uint64_t)mj - m->nvml_prev_mj);
        m->nvml_prev_mj = (uint64_t)mj;
      }
    } else {
      unsigned int mw = 0;
      if ((r = n->power(n->device, &mw)) == HMN__NVML_SUCCESS) watts = 1e-3 * (double)mw;
    }
    if (r != HMN__NVML_SUCCESS)
      rc = hmn__fail(err, HMN_EIO, "NVML reading failed: %s", hmn__nvml_error(n, r));
  }
  }
  if (rc != HMN_OK) return rc;
  bool power_meter = m->type == HMN__METER_XMC || (m->type == HMN__METER_NVML && !m->nvml.use_energy);
  if (first) {
    m->t_start = now;
  } else if (power_meter) {
    joules = 0.5 * (watts + m->p_last) * (now - m->t_last);
  }
  m->joules += joules;
  m->p_last = watts;
  m->t_last = now;
  m->samples++;
  return HMN_OK;
}

double hmn__meter_joules(const hmn_meter *m) { return m->joules; }

/* ---- the sampler thread ---- */

static void *hmn__meter_thread(void *arg) {
  hmn_meter *m = arg;
  pthread_mutex_lock(&m->lock);
  while (!m->stop) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    double whole = (double)(long)m->period;
    deadline.tv_sec += (time_t)whole;
    deadline.tv_nsec += (long)((m->period - whole) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
    int wait = 0;
    while (!m->stop && wait != ETIMEDOUT) wait = pthread_cond_timedwait(&m->wake, &m->lock, &deadline);
    if (m->stop) break;
    /* After an error the interval is lost; stop reports the first one. */
    if (m->sample_status == HMN_OK) {
      hmn_error e;
      int rc = hmn__meter_sample(m, hmn__monotonic(), &e);
      if (rc != HMN_OK) {
        m->sample_status = rc;
        m->sample_err = e;
      }
    }
  }
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

/* ---- the public API ---- */

void hmn_meter_close(hmn_meter *m) {
  if (m == NULL) return;
  if (m->running) {
    hmn_energy ignored;
    hmn_meter_stop(m, &ignored, NULL);
  }
  hmn__nvml_close(&m->nvml);
  if (m->sync_ready) {
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
  }
  hmn__free(m->zones);
  hmn__free(m);
}

int hmn_meter_open(const char *spec, const char *device, hmn_meter **out, hmn_error *err) {
  if (spec == NULL || out == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_meter_open: NULL argument");
  *out = NULL;
  char kind[16];
  const char *colon = strchr(spec, ':');
  size_t kind_len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
  const char *select = colon != NULL && colon[1] != '\0' ? colon + 1 : NULL;
  if (kind_len >= sizeof kind)
    return hmn__fail(err, HMN_EINVAL, "unknown energy meter '%s' (rapl, nvml[:INDEX], xmc[:PCI])",
                     spec);
  memcpy(kind, spec, kind_len);
  kind[kind_len] = '\0';
  int type;
  if (strcmp(kind, "rapl") == 0 && select == NULL)
    type = HMN__METER_RAPL;
  else if (strcmp(kind, "nvml") == 0)
    type = HMN__METER_NVML;
  else if (strcmp(kind, "xmc") == 0)
    type = HMN__METER_XMC;
  else
    return hmn__fail(err, HMN_EINVAL, "unknown energy meter '%s' (rapl, nvml[:INDEX], xmc[:PCI])",
                     spec);

  int rc = HMN_OK;
  hmn_meter *m = hmn__calloc(1, sizeof *m);
  if (m == NULL) return hmn__fail(err, HMN_ENOMEM, "out of memory opening an energy meter");
  m->type = type;
  m->period = HMN__DEFAULT_PERIOD;
  if (pthread_mutex_init(&m->lock, NULL) != 0) {
    rc = hmn__fail(err, HMN_ENOMEM, "cannot create the energy meter's lock");
    goto cleanup;
  }
  pthread_condattr_t attr;
  bool cond_ok = pthread_condattr_init(&attr) == 0;
  /* The sampler's deadlines are on the monotonic clock, which wall-clock
   * adjustments during a run do not move. */
  cond_ok = cond_ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
            pthread_cond_init(&m->wake, &attr) == 0;
  pthread_condattr_destroy(&attr);
  if (!cond_ok) {
    pthread_mutex_destroy(&m->lock);
    rc = hmn__fail(err, HMN_ENOMEM, "cannot create the energy meter's condition variable");
    goto cleanup;
  }
  m->sync_ready = true;
  switch (type) {
  case HMN__METER_RAPL:
    rc = hmn__rapl_open(m, err);
    break;
  case HMN__METER_XMC:
    rc = hmn__xmc_open(m, select, err);
    break;
  default:
    rc = hmn__nvml_open(m, select, device, err);
  }
cleanup:
  if (rc != HMN_OK) {
    hmn_meter_close(m);
    return rc;
  }
  *out = m;
  return HMN_OK;
}

const char *hmn_meter_source(const hmn_meter *m) { return m->source; }

int hmn_meter_set_period(hmn_meter *m, double seconds, hmn_error *err) {
  if (m == NULL || !(seconds >= 1e-3 && seconds <= 3600.0))
    return hmn__fail(err, HMN_EINVAL, "energy meter period must be in [0.001, 3600] s, got %g",
                     seconds);
  if (m->running)
    return hmn__fail(err, HMN_EINVAL, "energy meter period cannot change while it runs");
  m->period = seconds;
  return HMN_OK;
}

int hmn_meter_start(hmn_meter *m, hmn_error *err) {
  if (m == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_meter_start: NULL meter");
  if (m->running) return hmn__fail(err, HMN_EINVAL, "energy meter already started");
  hmn__meter_reset(m);
  m->stop = false;
  m->sample_status = HMN_OK;
  int rc = hmn__meter_sample(m, hmn__monotonic(), err);
  if (rc != HMN_OK) return rc;
  if (pthread_create(&m->thread, NULL, hmn__meter_thread, m) != 0)
    return hmn__fail(err, HMN_ENOMEM, "cannot start the energy meter's sampler thread");
  m->running = true;
  return HMN_OK;
}

int hmn_meter_stop(hmn_meter *m, hmn_energy *out, hmn_error *err) {
  if (m == NULL || out == NULL) return hmn__fail(err, HMN_EINVAL, "hmn_meter_stop: NULL argument");
  if (!m->running) return hmn__fail(err, HMN_EINVAL, "energy meter not started");
  pthread_mutex_lock(&m->lock);
  m->stop = true;
  pthread_cond_signal(&m->wake);
  pthread_mutex_unlock(&m->lock);
  pthread_join(m->thread, NULL);
  m->running = false;
  if (m->sample_status != HMN_OK) {
    if (err != NULL) *err = m->sample_err;
    return m->sample_status;
  }
  int rc = hmn__meter_sample(m, hmn__monotonic(), err);
  if (rc != HMN_OK) return rc;
  memset(out, 0, sizeof *out);
  out->joules = m->joules;
  out->seconds = m->t_last - m->t_start;
  out->watts = out->seconds > 0.0 ? out->joules / out->seconds : 0.0;
  out->samples = m->samples;
  return HMN_OK;
}
