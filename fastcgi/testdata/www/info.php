<?php
// Answers what PHP saw of the request, as JSON, for the interop tests.
header('Content-Type: application/json');
if (isset($_GET['warn'])) {
    error_log('gopaste interop warning');
}
echo json_encode([
    'server' => $_SERVER,
    'get' => (object) $_GET,
    'post' => (object) $_POST,
    'input' => file_get_contents('php://input'),
]);
