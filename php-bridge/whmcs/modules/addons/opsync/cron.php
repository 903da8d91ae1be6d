<?php

/**
 * opsync's cron entry point, inside the addon, where an update of the Openprovider module
 * does not reach:
 *
 *     php -q <WHMCS>/modules/addons/opsync/cron.php [--dry-run] [--batch N] [--all] [--verbose]
 *
 * Command line only (`php`, or `php-cgi` run from a crontab). The old cron path,
 * modules/registrars/openprovider/cron/DomainSync.php, runs this file too. PHP 7.2 syntax,
 * so that an older PHP gets one line instead of a parse error.
 */

$cli = PHP_SAPI === 'cli' || (PHP_SAPI === 'cgi-fcgi' && !isset($_SERVER['REQUEST_METHOD']));
if (!$cli) {
    http_response_code(403);
    exit("ACCESS DENIED. CONFIGURE CLI CRON.\n");
}
$stdout = defined('STDOUT') ? STDOUT : fopen('php://stdout', 'w');
$stderr = defined('STDERR') ? STDERR : fopen('php://stderr', 'w');
if (PHP_VERSION_ID < 80100) {
    fwrite($stderr, 'opsync: needs PHP 8.1 or later; this is PHP ' . PHP_VERSION . "\n");
    exit(5);
}

if (isset($_SERVER['argv']) && is_array($_SERVER['argv'])) {
    $args = $_SERVER['argv'];
} else {
    // php-cgi without register_argc_argv hands the command line over as the query's keys,
    // in order, the script's own path (".php" written "_php") first.
    $args = array(__FILE__);
    foreach (array_keys($_GET) as $key) {
        if (substr((string) $key, -4) !== '_php') {
            $args[] = (string) $key;
        }
    }
}

require_once __DIR__ . '/../../../init.php';
require_once __DIR__ . '/src/autoload.php';

exit(\Opsync\Whmcs\Cli::main($args, new \Opsync\Whmcs\WhmcsHost(), $stdout, $stderr));
