<?php

/**
 * opsync, at the path of the Openprovider module's old DomainSync.php cron, so existing
 * crontabs keep working: it runs opsync's own entry point,
 *
 *     php -q <WHMCS>/modules/addons/opsync/cron.php [--dry-run] [--batch N] [--all] [--verbose]
 *
 * which an update of the module does not touch (the update puts the module's own file
 * back here; the addon page then says so). PHP 7.2 syntax. See the addon's INSTALL.md.
 */

$cli = PHP_SAPI === 'cli' || (PHP_SAPI === 'cgi-fcgi' && !isset($_SERVER['REQUEST_METHOD']));
if (!$cli) {
    http_response_code(403);
    exit("ACCESS DENIED. CONFIGURE CLI CRON.\n");
}

$opsync = dirname(__DIR__, 3) . '/addons/opsync/cron.php';
if (!is_file($opsync)) {
    fwrite(defined('STDERR') ? STDERR : fopen('php://stderr', 'w'), "opsync: the opsync addon is missing ($opsync); install it with opsync-whmcs-install.php\n");
    exit(5);
}
require $opsync;
