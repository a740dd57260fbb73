/*
 * spandsp throughput harness for bench/dsp.py: DTMF (dtmf_rx) + call-progress tones
 * (super_tone_rx with the China 450 Hz plan) on N independent channels, the way a
 * soft-DSP telephony server runs them: every 20 ms, each channel's 160 samples go
 * through its own receivers.
 *
 *   spandsp_harness AUDIO.raw CHANNELS [dtmf|full]
 *
 * With "dtmf" only dtmf_rx runs (the figure usually quoted for spandsp). With "full" each
 * channel also runs what ccd's tone detector does besides the plan's tones: fax CNG and CED
 * detectors (modem_connect_tones_rx) and a level meter fed every sample (power_meter, the
 * basis of voice activity and silence) -- a like-for-like reference, printed apart.
 * AUDIO.raw is int16 little-endian mono at 8 kHz; channel c reads it circularly from
 * offset c * 977 samples so the channels are not in lock-step. Prints one line of JSON:
 * channels, audio seconds per channel, CPU seconds (clock(), this process, one thread),
 * and how many digits / tone reports were produced (so a broken build is visible).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spandsp.h>

#define CHUNK 160

static long digits_seen = 0;
static long tones_seen = 0;

static void on_digits(void *user_data, const char *digits, int len)
{
    (void) user_data;
    (void) digits;
    digits_seen += len;
}

static void on_tone(void *user_data, int code, int level, int delay)
{
    (void) user_data;
    (void) level;
    (void) delay;
    if (code >= 0)
        tones_seen++;
}

/* Frequency 0 means "none": a 450 Hz segment is (450, 0), a silent one (0, 0). (-1, as the
   header's comment suggests, would register a Goertzel filter at -1 Hz and match nothing.) */
static super_tone_rx_descriptor_t *china_plan(void)
{
    super_tone_rx_descriptor_t *d = super_tone_rx_make_descriptor(NULL);
    int t;

    t = super_tone_rx_add_tone(d);  /* dial: 450 Hz continuous */
    super_tone_rx_add_element(d, t, 450, 0, 1500, 0);
    t = super_tone_rx_add_tone(d);  /* busy: 350 on / 350 off */
    super_tone_rx_add_element(d, t, 450, 0, 300, 400);
    super_tone_rx_add_element(d, t, 0, 0, 300, 400);
    t = super_tone_rx_add_tone(d);  /* congestion: 700 on / 700 off */
    super_tone_rx_add_element(d, t, 450, 0, 600, 800);
    super_tone_rx_add_element(d, t, 0, 0, 600, 800);
    t = super_tone_rx_add_tone(d);  /* ringback: 1 s on / 4 s off */
    super_tone_rx_add_element(d, t, 450, 0, 900, 1100);
    super_tone_rx_add_element(d, t, 0, 0, 3800, 4200);
    return d;
}

int main(int argc, char *argv[])
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s AUDIO.raw CHANNELS [dtmf|full]\n", argv[0]);
        return 2;
    }
    int channels = atoi(argv[2]);
    int with_tones = !(argc == 4 && strcmp(argv[3], "dtmf") == 0);
    int full = argc == 4 && strcmp(argv[3], "full") == 0;
    if (channels < 1) {
        fprintf(stderr, "CHANNELS must be >= 1\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f) / 2;
    fseek(f, 0, SEEK_SET);
    n -= n % CHUNK;
    if (n < CHUNK) {
        fprintf(stderr, "%s: need at least %d samples\n", argv[1], CHUNK);
        return 2;
    }
    int16_t *audio = malloc(sizeof(int16_t) * n);
    if (fread(audio, sizeof(int16_t), n, f) != (size_t) n) {
        fprintf(stderr, "%s: short read\n", argv[1]);
        return 2;
    }
    fclose(f);

    super_tone_rx_descriptor_t *plan = china_plan();
    dtmf_rx_state_t **dtmf = calloc(channels, sizeof(*dtmf));
    super_tone_rx_state_t **tone = calloc(channels, sizeof(*tone));
    modem_connect_tones_rx_state_t **cng = calloc(channels, sizeof(*cng));
    modem_connect_tones_rx_state_t **ced = calloc(channels, sizeof(*ced));
    power_meter_t **meter = calloc(channels, sizeof(*meter));
    long *pos = calloc(channels, sizeof(*pos));
    for (int c = 0; c < channels; c++) {
        dtmf[c] = dtmf_rx_init(NULL, on_digits, NULL);
        tone[c] = super_tone_rx_init(NULL, plan, on_tone, NULL);
        if (full) {
            cng[c] = modem_connect_tones_rx_init(NULL, MODEM_CONNECT_TONES_FAX_CNG, on_tone, NULL);
            ced[c] = modem_connect_tones_rx_init(NULL, MODEM_CONNECT_TONES_FAX_CED, on_tone, NULL);
            meter[c] = power_meter_init(NULL, 6);
        }
        pos[c] = ((long) c * 977) % n;
    }
    int64_t level_sum = 0;
    int16_t buf[CHUNK];
    clock_t t0 = clock();
    for (long i = 0; i < n; i += CHUNK) {
        for (int c = 0; c < channels; c++) {
            const int16_t *src;
            long p = pos[c];
            if (p + CHUNK <= n) {
                src = audio + p;
            } else {
                long first = n - p;
                memcpy(buf, audio + p, first * sizeof(int16_t));
                memcpy(buf + first, audio, (CHUNK - first) * sizeof(int16_t));
                src = buf;
            }
            dtmf_rx(dtmf[c], src, CHUNK);
            if (with_tones)
                super_tone_rx(tone[c], src, CHUNK);
            if (full) {
                modem_connect_tones_rx(cng[c], src, CHUNK);
                modem_connect_tones_rx(ced[c], src, CHUNK);
                for (int k = 0; k < CHUNK; k++)
                    level_sum += power_meter_update(meter[c], src[k]);
            }
            pos[c] = (p + CHUNK) % n;
        }
    }
    double cpu = (double) (clock() - t0) / CLOCKS_PER_SEC;
    printf("{\"channels\": %d, \"seconds\": %.3f, \"cpu\": %.6f, \"digits\": %ld, \"tone_reports\": %ld, \"tones\": %d, \"full\": %d, \"level_sum\": %lld}\n",
           channels, (double) n / 8000.0, cpu, digits_seen, tones_seen, with_tones, full, (long long) level_sum);
    for (int c = 0; c < channels; c++) {
        dtmf_rx_free(dtmf[c]);
        super_tone_rx_free(tone[c]);
        if (full) {
            modem_connect_tones_rx_free(cng[c]);
            modem_connect_tones_rx_free(ced[c]);
            power_meter_free(meter[c]);
        }
    }
    free(cng);
    free(ced);
    free(meter);
    super_tone_rx_free_descriptor(plan);
    free(dtmf);
    free(tone);
    free(pos);
    free(audio);
    return 0;
}
