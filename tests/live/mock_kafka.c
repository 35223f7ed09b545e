/* A Kafka broker for the live tests: librdkafka's mock cluster (3 brokers) in a process of its
 * own, so it outlives the faultline processes the tests kill and restart.
 *
 * Usage: mock_kafka TOPIC PARTITIONS [TOPIC2 PARTITIONS2]
 * (TOPIC2: a second topic, such as the summaries topic of `tail --summaries-to`)
 * Prints the bootstrap servers on the first line, then reads commands on stdin and answers
 * each with one line ("ok ..." or "error ..."):
 *   produce FILE    every non-empty line of FILE becomes a message (keyed by line number)
 *   produce_parts FILE  every line is "PARTITION<TAB>MESSAGE": the message goes to that
 *                   partition, so a test decides what each partition holds and in which order
 *   down / up       all brokers go down / come back
 *   fail-commits    every OffsetCommit is answered with an error from now on (a member that
 *                   produced its output but whose commit never landed)
 *   ok-commits      OffsetCommit works again
 *   quit
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BROKERS 3
#define KAFKA_API_OFFSET_COMMIT 8 /* the protocol's ApiKey (RD_KAFKAP_* is not public) */

static long produce_file(rd_kafka_t *p, const char *topic, const char *path, long *seq,
                         int parts)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long count = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!n)
            continue;
        char *value = line;
        int32_t partition = RD_KAFKA_PARTITION_UA;
        if (parts) {
            char *tab = strchr(line, '\t');
            if (!tab)
                continue;
            partition = (int32_t)atoi(line);
            value = tab + 1;
            n -= value - line;
        }
        char key[32];
        snprintf(key, sizeof(key), "k%ld", (*seq)++);
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, n),
                                        RD_KAFKA_V_KEY(key, strlen(key)),
                                        RD_KAFKA_V_PARTITION(partition),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 100);
        if (err)
            break;
        count++;
    }
    free(line);
    fclose(f);
    rd_kafka_flush(p, 30000);
    return count;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: mock_kafka TOPIC PARTITIONS [TOPIC2 PARTITIONS2]\n");
        return 1;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    rd_kafka_mock_cluster_t *mc = owner ? rd_kafka_mock_cluster_new(owner, BROKERS) : NULL;
    if (!mc) {
        fprintf(stderr, "mock_kafka: cannot start the mock cluster: %s\n", err);
        return 1;
    }
    rd_kafka_mock_topic_create(mc, argv[1], atoi(argv[2]), BROKERS);
    if (argc == 5)
        rd_kafka_mock_topic_create(mc, argv[3], atoi(argv[4]), BROKERS);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));

    printf("%s\n", bootstraps);
    fflush(stdout);
    char cmd[4096];
    long seq = 0;
    while (fgets(cmd, sizeof(cmd), stdin)) {
        cmd[strcspn(cmd, "\r\n")] = '\0';
        bool parts = !strncmp(cmd, "produce_parts ", 14);
        if (parts || !strncmp(cmd, "produce ", 8)) {
            const char *path = cmd + (parts ? 14 : 8);
            long n = produce_file(producer, argv[1], path, &seq, parts);
            if (n < 0)
                printf("error cannot read %s\n", path);
            else
                printf("ok %ld\n", n);
        } else if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
            for (int id = 1; id <= BROKERS; id++) {
                if (cmd[0] == 'd')
                    rd_kafka_mock_broker_set_down(mc, id);
                else
                    rd_kafka_mock_broker_set_up(mc, id);
            }
            printf("ok %s\n", cmd);
        } else if (!strcmp(cmd, "fail-commits")) {
            /* Not retried by the client, and no rebalance: the commit is simply lost. */
            enum { N = 100000 };
            static rd_kafka_resp_err_t errs[N];
            for (int i = 0; i < N; i++)
                errs[i] = RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE;
            rd_kafka_mock_push_request_errors_array(mc, KAFKA_API_OFFSET_COMMIT, N, errs);
            printf("ok %s\n", cmd);
        } else if (!strcmp(cmd, "ok-commits")) {
            rd_kafka_mock_clear_request_errors(mc, KAFKA_API_OFFSET_COMMIT);
            printf("ok %s\n", cmd);
        } else if (!strcmp(cmd, "quit")) {
            break;
        } else {
            printf("error unknown command\n");
        }
        fflush(stdout);
    }
    rd_kafka_destroy(producer);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    return 0;
}
