<?php

/**
 * opsync's hook: after WHMCS's own cron job, what the addon page handed to cron, then a
 * sync when "Run from WHMCS's cron" is on and the last sync is at least the configured
 * interval ago (off by default). Also loads the helpers a delegating openprovider_Sync
 * calls (delegate.php). Parsed on every WHMCS request: PHP 7.2 syntax only, and nothing
 * at all on a PHP older than opsync needs.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

if (PHP_VERSION_ID < 80100) {
    return;
}

require_once __DIR__ . '/src/autoload.php';
require_once __DIR__ . '/delegate.php';

(new \Opsync\Whmcs\WhmcsHost())->hook('AfterCronJob', 1, static function ($vars) {
    \Opsync\Whmcs\Addon::afterCron(new \Opsync\Whmcs\WhmcsHost());
});
