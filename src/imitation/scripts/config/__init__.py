"""The scripts' Sacred experiments (``<script>_ex``) and their named configs."""
